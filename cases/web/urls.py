from django.urls import path

from cases.web import entities, review, rules, views

app_name = "cases"

urlpatterns = [
    path("", views.home, name="home"),
    path("queue/", views.queue, name="queue"),
    path("cases/next/", views.case_next, name="next"),
    path("cases/<int:pk>/", views.case_detail, name="detail"),
    path("cases/<int:pk>/claim/", views.case_claim_view, name="claim"),
    path("cases/<int:pk>/release/", views.case_release_view, name="release"),
    path("cases/<int:pk>/decide/", views.case_decide_view, name="decide"),
    path("cases/<int:pk>/override/", views.case_override_view, name="override"),
    path("cases/<int:pk>/reassign/", views.case_reassign_view, name="reassign"),
    path("cases/<int:pk>/skip/", review.case_skip_view, name="skip"),
    path("cases/<int:pk>/snooze/", review.case_snooze_view, name="snooze"),
    path("cases/<int:pk>/notes/", review.case_note_view, name="note"),
    path("cases/undo/", review.case_undo_view, name="undo"),
    path("cases/<int:pk>/block/", rules.case_block, name="block"),
    path("cases/<int:pk>/group/", rules.case_group_decide, name="group-decide"),
    path("rules/", rules.rule_list, name="rules"),
    path("rules/new/", rules.rule_edit, name="rule-new"),
    path("rules/<int:pk>/", rules.rule_edit, name="rule"),
    path(
        "entities/<int:client>/<str:kind>/",
        entities.entity_detail,
        name="entity",
    ),
]
