"""Benchmark of the battery planner: solve time, gap to the LP optimum, a week's savings.

* ``plan_solve_ms_144_slots``: median time to plan 36 hours (144 quarter hours) of the demo site,
  over random made-up cases (``tests/planner/days.py``), each the best of three runs (as
  ``timeit`` does: the other runs waited for the shared machine); ``_max`` the slowest case,
  ``plan_cpu_ms_144_slots`` the median CPU time of a run.
* ``cost_gap_vs_lp_pct``: the largest excess of the plan's cost over the LP optimum (HiGHS
  through scipy) on the same cases, in per cent of the optimum; ``_mean`` the average.
* ``weekly_cost_*_eur``: the demo site's week (``tests/planner/week.py``) with no battery, with
  self-consumption only and with the planner replanning every quarter hour on forecasts that
  miss; ``weekly_savings_vs_self_consumption_pct`` (the headline) the planner's saving on
  self-consumption only.

Run: .venv/bin/python benchmarks/planner.py
"""

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from custom_components.grid_ems.planner import plan
from tests.planner.days import random_input
from tests.planner.reference import solve_lp
from tests.planner.week import make_week, simulate_week

CASES = 20
RUNS = 3


def main() -> int:
    """Time and check the planner on random cases, then run the week; the savings last."""
    times, cpu_times, gaps = [], [], []
    for seed in range(CASES):
        inputs = random_input(seed)
        runs = []
        for _ in range(RUNS):
            start, cpu_start = time.perf_counter(), time.process_time()
            result = plan(inputs)
            runs.append(1000 * (time.perf_counter() - start))
            cpu_times.append(1000 * (time.process_time() - cpu_start))
        times.append(min(runs))
        optimum = solve_lp(inputs).optimum_eur
        gaps.append(100 * (result.cost.total_eur - optimum) / abs(optimum))
    print(f"cases: {CASES}")
    print(f"plan_cpu_ms_144_slots: {statistics.median(cpu_times):.1f}")
    print(f"plan_solve_ms_144_slots_max: {max(times):.1f}")
    print(f"plan_solve_ms_144_slots: {statistics.median(times):.1f}")
    print(f"cost_gap_vs_lp_pct_mean: {statistics.mean(gaps):.3f}")
    print(f"cost_gap_vs_lp_pct: {max(gaps):.3f}")
    start = time.perf_counter()
    week = simulate_week(make_week())
    print(f"week_plans: {week.plans}")
    print(f"week_seconds: {time.perf_counter() - start:.1f}")
    print(f"weekly_cost_no_battery_eur: {week.no_battery_eur:.2f}")
    print(f"weekly_cost_self_consumption_eur: {week.self_consumption_eur:.2f}")
    print(f"weekly_cost_planner_eur: {week.planner_eur:.2f}")
    print(f"week_peak_self_consumption_kw: {week.self_consumption_peak_kw:.1f}")
    print(f"week_peak_planner_kw: {week.planner_peak_kw:.1f}")
    print(f"weekly_savings_vs_self_consumption_pct: {week.savings_vs_self_consumption_pct:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
