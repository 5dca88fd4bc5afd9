"""Content history of plans: every change appends the whole plan as it now is."""

from __future__ import annotations

from typing import Any

from .models import Person, Plan, PlanRevision


def snapshot(plan: Plan) -> dict[str, Any]:
    return {
        "status": plan.status,
        "document": plan.document,
        "investigation": plan.investigation_id,
        "follow_up_method": plan.follow_up_method,
        "evaluation_method": plan.evaluation_method,
        "needs": [{"id": n.pk, "text": n.text} for n in plan.needs.order_by("order", "pk")],
        "measures": [{"id": m.pk, "text": m.text, "responsible": m.responsible_id,
                      "starts_on": m.starts_on.isoformat(), "ends_on": m.ends_on.isoformat()}
                     for m in plan.measures.order_by("order", "pk")],
    }


def keep(plan: Plan, *, change: str, by: Person) -> PlanRevision:
    """Append the plan's state after `change` as revision `plan.version`."""
    return PlanRevision.objects.create(plan=plan, version=plan.version, snapshot=snapshot(plan),
                                       change=change, changed_by=by)


def as_of(plan: Plan, version: int) -> dict[str, Any]:
    """The plan as it was at `version`."""
    return plan.revisions.get(version=version).snapshot
