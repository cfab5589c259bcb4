"""Connector framework, connections and the generic connectors."""
