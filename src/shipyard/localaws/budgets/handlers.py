"""AWS::Budgets::Budget into moto's Budgets backend (moto's CloudFormation skips it)."""

from __future__ import annotations

from typing import Any

from moto.budgets.models import budgets_backends
from moto.core.common_models import CloudFormationModel
from moto.utilities.utils import get_partition

from shipyard.localaws.core.base import Handler, properties


def _backend(account_id: str, region_name: str) -> Any:
    return budgets_backends[account_id][get_partition(region_name)]


class Budget(Handler, CloudFormationModel):
    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Budgets::Budget"

    def __init__(self, name: str, account_id: str) -> None:
        self.physical_id = name
        self.account_id = account_id
        self.attributes: dict[str, Any] = {}

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        p = properties(cloudformation_json)
        budget = dict(p["Budget"])
        budget.setdefault("BudgetName", resource_name)
        limit = budget.get("BudgetLimit")
        if limit:
            budget["BudgetLimit"] = {"Amount": str(limit["Amount"]), "Unit": limit["Unit"]}
        notifications = [{"Notification": n["Notification"], "Subscribers": n.get("Subscribers", [])}
                         for n in p.get("NotificationsWithSubscribers", [])]
        _backend(account_id, region_name).create_budget(account_id=account_id, budget=budget, notifications=notifications)
        return cls(budget["BudgetName"], account_id)

    def delete(self, account_id: str, region_name: str) -> None:
        _backend(account_id, region_name).delete_budget(account_id=account_id, budget_name=self.physical_id)
