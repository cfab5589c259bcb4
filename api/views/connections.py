"""The connector catalog and connections.

Secrets are write-only: a connection shows which secrets are set and when,
never their values. Updating without a secret keeps the stored one.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from api.errors import Conflict
from audit import services as audit
from connectors import services
from connectors.errors import PermanentError
from connectors.models import Connection
from connectors.registry import connectors, get_connector


class ConnectorSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    version = serializers.CharField()
    category = serializers.CharField()
    description = serializers.CharField()
    icon = serializers.CharField()
    config_schema = serializers.DictField(help_text="JSON Schema of the settings.")
    secret_fields = serializers.ListField(child=serializers.CharField())
    actions = serializers.DictField(help_text="Each action's label and schemas.")
    triggers = serializers.DictField(help_text="Each trigger's label, kind, schemas.")


class ConnectorViewSet(viewsets.ViewSet):
    """Every connector this installation has, with its settings schema and
    the schemas of its actions and triggers."""

    required = {"read": "connectors.view_connection"}
    lookup_field = "key"
    lookup_value_regex = "[a-z0-9_.-]+"
    serializer_class = ConnectorSerializer

    @extend_schema(responses=ConnectorSerializer(many=True))
    def list(self, request: Request) -> Response:
        items = [cls.describe() for cls in connectors().values()]
        return Response(sorted(items, key=lambda c: (c["category"], c["label"])))

    @extend_schema(responses=ConnectorSerializer)
    def retrieve(self, request: Request, key: str) -> Response:
        try:
            cls = get_connector(key)
        except PermanentError:
            raise NotFound(f"There is no connector “{key}”.") from None
        return Response(cls.describe())


class ConnectionSerializer(serializers.ModelSerializer):
    connector = serializers.CharField(source="connector_key")
    settings = serializers.DictField(
        required=False, help_text="The connector's settings, without secrets."
    )
    secrets = serializers.DictField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=False),
        write_only=True,
        required=False,
        help_text="Secret values by name (see the connector's `secret_fields`). "
        "Never returned; omitted or empty ones keep their stored value.",
    )
    secrets_set = serializers.SerializerMethodField(
        help_text="Each stored secret's name and when it was last set."
    )

    class Meta:
        model = Connection
        fields = [
            "id",
            "name",
            "description",
            "connector",
            "settings",
            "secrets",
            "secrets_set",
            "status",
            "last_checked_at",
            "last_check_message",
            "rate_limit_per_minute",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "status",
            "last_checked_at",
            "last_check_message",
            "created_at",
            "updated_at",
        ]

    def get_secrets_set(self, connection: Connection) -> dict[str, str]:
        return dict(connection.secrets_set_at)

    def validate_connector(self, key: str) -> str:
        if self.instance is not None and key != self.instance.connector_key:
            raise serializers.ValidationError(
                "A connection's connector cannot change: create a new connection."
            )
        try:
            get_connector(key)
        except PermanentError:
            raise serializers.ValidationError(
                f"There is no connector “{key}”: see /api/v1/connectors/."
            ) from None
        return key


class CheckSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    message = serializers.CharField()
    status = serializers.CharField(help_text="The connection's status now.")


class ConnectionViewSet(viewsets.ModelViewSet):
    """Connections: the credentials and settings to reach one system."""

    serializer_class = ConnectionSerializer
    queryset = Connection.objects.all()
    required = {
        "read": "connectors.view_connection",
        "create": "connectors.add_connection",
        "update": "connectors.change_connection",
        "partial_update": "connectors.change_connection",
        "destroy": "connectors.delete_connection",
        "test": "connectors.change_connection",
    }

    def perform_create(self, serializer: Any) -> None:
        values = serializer.validated_data
        serializer.instance = self._saving(
            lambda: services.create_connection(
                audit.Actor.user(self.request.user),
                connector_key=values["connector_key"],
                name=values["name"],
                description=values.get("description", ""),
                settings=values.get("settings", {}),
                secrets=values.get("secrets", {}),
                user=self.request.user,
            )
        )
        limit = values.get("rate_limit_per_minute")
        if limit is not None:
            Connection.objects.filter(pk=serializer.instance.pk).update(
                rate_limit_per_minute=limit
            )
            serializer.instance.refresh_from_db()

    def perform_update(self, serializer: Any) -> None:
        connection = serializer.instance
        values = serializer.validated_data
        serializer.instance = self._saving(
            lambda: services.update_connection(
                audit.Actor.user(self.request.user),
                connection,
                name=values.get("name", connection.name),
                description=values.get("description", connection.description),
                settings=values.get("settings", connection.settings),
                new_secrets=values.get("secrets", {}),
                user=self.request.user,
            )
        )
        limit = values.get("rate_limit_per_minute", connection.rate_limit_per_minute)
        if limit != serializer.instance.rate_limit_per_minute:
            Connection.objects.filter(pk=connection.pk).update(
                rate_limit_per_minute=limit
            )
            serializer.instance.refresh_from_db()

    def perform_destroy(self, instance: Connection) -> None:
        try:
            services.delete_connection(audit.Actor.user(self.request.user), instance)
        except services.ConnectionInUse as error:
            raise Conflict(str(error)) from None

    @staticmethod
    def _saving(save: Any) -> Connection:
        try:
            return save()
        except services.InvalidSettings as error:
            raise serializers.ValidationError(
                {
                    f"settings.{k}" if k != "__all__" else "settings": [v]
                    for k, v in error.errors.items()
                }
            ) from None
        except IntegrityError:
            raise serializers.ValidationError(
                {"name": ["Another connection already has this name."]}
            ) from None

    @extend_schema(request=None, responses=CheckSerializer)
    @action(detail=True, methods=["post"])
    def test(self, request: Request, pk: str) -> Response:
        """Check that the system answers with these credentials (at most 20 s).
        The result is kept on the connection."""
        connection = self.get_object()
        outcome = services.check_connection(connection)
        return Response(
            {"ok": outcome.ok, "message": outcome.message, "status": connection.status},
            status=status.HTTP_200_OK,
        )
