"""GET /health/: for load balancers and monitoring, no sign-in needed.

200 while the process can reach the database. `status` is "degraded" when a
tenant's active model file cannot be loaded (intake then scores that tenant's
orders with its last good model, or decides "review" and queues; see
models_ml.scoring.ModelHealth). Which tenant and why is on the models page,
for its leads, not here: this page names no tenant and no version.
"""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from models_ml.scoring import models_health


@require_GET
def health(request: HttpRequest) -> JsonResponse:
    models = models_health()
    failing = sum(not m.ok for m in models)
    return JsonResponse(
        {
            "status": "degraded" if failing else "ok",
            "models": {"active": len(models), "failing": failing},
        }
    )
