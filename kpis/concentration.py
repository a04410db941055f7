"""The long tail and concentration of chain revenue over employees (``../shared/DESIGN.md``,
"Events and KPIs"): the share outside the top 10 %, the Gini coefficient and the Lorenz curve.
Plain functions of the revenues, as ``kpis.domain``."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from kpis.domain import ratio

TOP_SHARE = 0.10


@dataclass(frozen=True)
class LongTail:
    employees: int
    with_order: int  # employees with at least one chain order
    revenue: int
    outside_top: int  # revenue outside the top 10% of employees
    gini: float | None
    lorenz: list[tuple[float, float]] = field(default_factory=list)

    @property
    def share_outside_top(self) -> float | None:
        return ratio(self.outside_top, self.revenue)

    @property
    def reach(self) -> float | None:
        return ratio(self.with_order, self.employees)


def top_count(n: int, share: float = TOP_SHARE) -> int:
    """The top 10% of n employees: ceil(n / 10), so at least one when there is anyone."""
    return math.ceil(n * share - 1e-9)


def gini(values: Sequence[int], *, zeros: int = 0) -> float | None:
    """Gini coefficient: sum_i (2i - n - 1) x_(i) / (n * sum x), x ascending, i = 1..n, over
    ``values`` (each at least 0) and ``zeros`` more employees with nothing. 0 when everyone has
    the same; (n-1)/n when one has everything; None without revenue. The zeros come first and
    add nothing to the sum, so only the others are walked."""
    positive = sorted(x for x in values if x)
    n, total = len(values) + zeros, sum(positive)
    if n == 0 or total == 0:
        return None
    first = n - len(positive)  # the zeros' places
    return sum((2 * (first + i) - n - 1) * x for i, x in enumerate(positive, start=1)) / (n * total)


def lorenz(values: Sequence[int], points: int = 20, *, zeros: int = 0) -> list[tuple[float, float]]:
    """The Lorenz curve: (share of employees, poorest first; their share of revenue), from
    (0, 0) to (1, 1), at most ``points`` + 1 points; ``zeros`` as in ``gini``."""
    positive = sorted(x for x in values if x)
    n, total = len(values) + zeros, sum(positive)
    if n == 0 or total == 0:
        return []
    first = n - len(positive)
    cumulative = [0]  # of the positive values; the poorest ``first`` hold nothing
    for x in positive:
        cumulative.append(cumulative[-1] + x)
    marks = sorted({round(n * j / points) for j in range(points + 1)})
    return [(i / n, cumulative[max(0, i - first)] / total) for i in marks]


def long_tail(revenue_by_employee: Mapping[int, int], employees: Iterable[int], with_order: Iterable[int]) -> LongTail:
    """Over the active ``employees`` (zeros count): chain revenue, the share outside the top
    10%, Gini and Lorenz; ``with_order``: employees whose chain has at least one paid order."""
    employees = list(dict.fromkeys(employees))
    values = [max(0, revenue_by_employee.get(e, 0)) for e in employees]
    return long_tail_of(values, len(set(with_order) & set(employees)))


def long_tail_of(values: Sequence[int], with_order: int, employees: int | None = None) -> LongTail:
    """``long_tail`` from the chain revenues themselves (each at least 0): ``employees`` when
    given counts the employees whose revenue is 0 and left out of ``values``."""
    positive = [x for x in values if x]
    n = max(len(values), employees or 0)
    zeros = n - len(positive)
    total = sum(positive)
    top = sum(sorted(positive, reverse=True)[: top_count(n)])
    return LongTail(
        employees=n,
        with_order=with_order,
        revenue=total,
        outside_top=total - top,
        gini=gini(positive, zeros=zeros),
        lorenz=lorenz(positive, zeros=zeros),
    )
