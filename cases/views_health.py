"""GET /health/: for load balancers and monitoring, no sign-in needed.

200 while the process can reach the database. `status` is "degraded" when the
active model's file cannot be loaded (intake then scores with the last good
model, or decides "review" and queues; see models_ml.scoring.ModelHealth).
The reason is on the models page, for leads, not here.
"""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from models_ml.scoring import model_health


@require_GET
def health(request: HttpRequest) -> JsonResponse:
    model = model_health()
    return JsonResponse(
        {
            "status": "ok" if model.ok else "degraded",
            "model": {
                "ok": model.ok,
                "active_version": model.active_version,
                "serving_version": model.serving_version,
            },
        }
    )
