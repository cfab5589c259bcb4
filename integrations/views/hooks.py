"""A flow's own webhook address: ``/hooks/flows/<token>/``."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from connectors.base import InboundRequest
from connectors.webhook.views import MAX_BODY_BYTES, read_body
from integrations.triggers import receive_flow_hook


@csrf_exempt
def receive_flow_hook_view(request: HttpRequest, token: str) -> JsonResponse:
    """Start a run from one delivery; answer 202 with the run id.

    Senders authenticate with the trigger connection's secret (signature,
    shared secret), not a session, hence ``csrf_exempt``.
    """
    if request.method != "POST":
        response = JsonResponse(
            {"error": "Webhooks are delivered with POST."}, status=405
        )
        response["Allow"] = "POST"
        return response
    body = read_body(request)
    if body is None:
        return JsonResponse(
            {
                "error": f"The body is larger than the {MAX_BODY_BYTES // 2**20} "
                "MB a webhook may carry."
            },
            status=413,
        )
    answer = receive_flow_hook(
        token,
        InboundRequest(
            method=request.method,
            path=request.path,
            headers={name.lower(): value for name, value in request.headers.items()},
            query={name: value for name, value in request.GET.items()},
            body=body,
            remote_addr=request.META.get("REMOTE_ADDR", ""),
        ),
    )
    response = JsonResponse(answer.body, status=answer.status)
    for name, value in answer.headers.items():
        response[name] = value
    return response
