"""The reviewers' inbox and one task's page, under /tasks/."""

from __future__ import annotations

from django.urls import path

from integrations.views import inbox, tasks

urlpatterns = [
    path("", inbox.inbox, name="tasks"),
    path("counts/", inbox.inbox_counts, name="task-counts"),
    path("bulk/", inbox.inbox_bulk, name="task-bulk"),
    path("<int:pk>/", tasks.task_detail, name="task-detail"),
    path("<int:pk>/claim/", tasks.task_claim, name="task-claim"),
    path("<int:pk>/unclaim/", tasks.task_unclaim, name="task-unclaim"),
    path("<int:pk>/reassign/", tasks.task_reassign, name="task-reassign"),
    path("<int:pk>/values/", tasks.task_values, name="task-values"),
    path("<int:pk>/document/", tasks.task_document, name="task-upload"),
    path("<int:pk>/retry/", tasks.task_retry, name="task-retry"),
    path("<int:pk>/conflicts/", tasks.task_conflicts, name="task-conflicts"),
    path("<int:pk>/decide/", tasks.task_decide, name="task-decide"),
    path("<int:pk>/dismiss/", tasks.task_dismiss, name="task-dismiss"),
    path(
        "<int:pk>/workspace-document/",
        tasks.task_workspace_document,
        name="task-workspace-document",
    ),
    path(
        "<int:pk>/documents/<str:sha256>/",
        tasks.task_document_file,
        name="task-document",
    ),
]
