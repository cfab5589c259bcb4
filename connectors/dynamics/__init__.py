"""Microsoft Dynamics 365 / Dataverse: connector, client and emulator."""
