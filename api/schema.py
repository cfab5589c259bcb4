"""OpenAPI: every operation documents the API's error answers too."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema as BaseAutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    error = serializers.CharField(help_text="A stable code, e.g. `not_found`.")
    message = serializers.CharField(help_text="What went wrong, in words.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="For `invalid`: each field's problems (`__all__`: the whole).",
    )
    request_id = serializers.CharField()

    class Meta:
        ref_name = "Error"


ERRORS = {
    "400": "The request is not valid (`invalid`, `parse_error`).",
    "401": "No valid session or API token.",
    "403": "Your role does not allow this.",
    "404": "Not found, or not visible to you.",
    "405": "Method not allowed.",
    "406": "Not acceptable (the API answers JSON).",
    "409": "The object's state does not allow this now.",
    "415": "Unsupported media type (send JSON).",
    "429": "Too many requests with this token.",
}


class AutoSchema(BaseAutoSchema):
    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        error = self._get_response_for_code(
            OpenApiResponse(ErrorSerializer), "400", direction=direction
        )
        for code, description in ERRORS.items():
            if code not in responses:
                responses[code] = {**error, "description": description}
        return responses
