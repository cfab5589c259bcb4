"""API tokens: create one with a user name and password (or from a signed-in
session), list your own, revoke one. Tokens are per user and carry that
user's role; an integration admin may also list and revoke anyone's."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth import authenticate
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from knox.settings import knox_settings
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from api.errors import Conflict
from api.models import MAX_PER_USER, ApiToken
from api.throttling import SignIn
from audit import services as audit
from audit.models import EventType

MAX_DAYS = 365


class TokenSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="token_key", read_only=True)
    user = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = ApiToken
        fields = ["id", "name", "user", "created", "expiry"]
        read_only_fields = fields


class NewTokenSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    expires_in_days = serializers.IntegerField(
        min_value=1,
        max_value=MAX_DAYS,
        required=False,
        help_text="Days until the token stops working (default 90).",
    )
    username = serializers.CharField(
        required=False, help_text="With password, when not signed in."
    )
    password = serializers.CharField(
        required=False, write_only=True, style={"input_type": "password"}
    )


class CreatedTokenSerializer(TokenSerializer):
    token = serializers.CharField(
        read_only=True, help_text="The token itself: shown this once, keep it safe."
    )

    class Meta(TokenSerializer.Meta):
        fields = [*TokenSerializer.Meta.fields, "token"]
        read_only_fields = fields


class TokenViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Your API tokens. `DELETE` revokes one at once."""

    serializer_class = TokenSerializer
    lookup_field = "token_key"
    lookup_url_kwarg = "id"
    lookup_value_regex = "[A-Za-z0-9_-]{1,40}"
    required = {"list": "", "retrieve": "", "destroy": "", "create": ""}

    def get_queryset(self) -> Any:
        tokens = ApiToken.objects.select_related("user").filter(
            expiry__gt=timezone.now()
        )
        if self.request.user.has_perm("api.delete_apitoken"):
            return tokens
        return tokens.filter(user=self.request.user)

    def get_permissions(self) -> list[Any]:
        if self.action == "create":
            return [AllowAny()]
        return super().get_permissions()

    def get_throttles(self) -> list[Any]:
        if self.action == "create" and not self.request.user.is_authenticated:
            return [SignIn()]
        return super().get_throttles()

    @extend_schema(
        request=NewTokenSerializer,
        responses={201: CreatedTokenSerializer},
        auth=[{}, {"knoxApiToken": []}, {"cookieAuth": []}],
    )
    def create(self, request: Request) -> Response:
        """Create a token: signed in, or with `username` and `password`."""
        data = NewTokenSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        user = request.user
        if not user.is_authenticated:
            user = authenticate(
                request._request,
                username=values.get("username", ""),
                password=values.get("password", ""),
            )
            if user is None or not user.is_active:
                raise AuthenticationFailed(
                    "The user name or password is not right (after several "
                    "failures the account is locked for a while)."
                )
        if not ApiToken.room_for_one_more(user):
            raise Conflict(
                f"{user.username} already has {MAX_PER_USER} working tokens: "
                "revoke one that is no longer used first."
            )
        days = values.get("expires_in_days")
        ttl = timedelta(days=days) if days else knox_settings.TOKEN_TTL
        token, key = ApiToken.objects.create(
            user=user, expiry=ttl, name=values.get("name", "")
        )
        audit.record(
            EventType.CONFIG_CHANGED,
            audit.Actor.user(user),
            summary=f"API token “{token.name or token.token_key}” created",
            payload={
                "object_type": "API token",
                "object_id": token.token_key,
                "action": "created",
                "expiry": token.expiry.isoformat() if token.expiry else None,
            },
        )
        body = CreatedTokenSerializer(token).data
        body["token"] = key
        return Response(body, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance: ApiToken) -> None:
        audit.record(
            EventType.CONFIG_CHANGED,
            audit.Actor.user(self.request.user),
            summary=f"API token “{instance.name or instance.token_key}” revoked",
            payload={
                "object_type": "API token",
                "object_id": instance.token_key,
                "action": "deleted",
                "owner": instance.user.username,
            },
        )
        instance.delete()


__all__ = ["TokenViewSet"]
