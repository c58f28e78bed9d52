from django.contrib import admin

from models_ml.models import ModelVersion


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ["id", "status", "training_rows", "created_at", "promoted_at"]
    list_filter = ["status"]
    readonly_fields = [f.name for f in ModelVersion._meta.fields]

    def has_add_permission(self, request: object) -> bool:
        return False
