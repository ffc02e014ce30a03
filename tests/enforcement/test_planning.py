"""The battery plan in Home Assistant: inputs from the link's options, replanning, following it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.grid_ems.const import DOMAIN
from custom_components.grid_ems.diagnostics import async_get_config_entry_diagnostics
from custom_components.grid_ems.enforcement import CONF_ENFORCEMENT
from custom_components.grid_ems.grid_link import CONF_TEST_MODE
from custom_components.grid_ems.netflex import (
    Command,
)
from custom_components.grid_ems.planning import CONF_PLANNING, PlanningCoordinator
from demo.site import link_options_form

from .conftest import ASSETS, BESS_TARGET, ENFORCEMENT_OPTIONS, Site, start_site

PRICES = "sensor.day_ahead_price"
NOW_CHEAP = -0.05
LATER = 0.40


def forecast(hours: int = 24, cheap_hours: int = 2) -> list[dict[str, Any]]:
    """A made-up hourly price forecast in the ENTSO-e integration's shape, from this hour on."""
    hour = dt_util.utcnow().replace(minute=0, second=0, microsecond=0)
    return [
        {
            "time": (hour + timedelta(hours=h)).isoformat(),
            "price": NOW_CHEAP if h < cheap_hours else LATER,
        }
        for h in range(hours)
    ]


def set_prices(hass: HomeAssistant, prices: list[dict[str, Any]]) -> None:
    """The price sensor with its forecast attribute."""
    hass.states.async_set(PRICES, "0.1", {"unit_of_measurement": "€/kWh", "prices": prices})


@pytest.fixture
def planning() -> dict[str, Any]:
    """The planning section of the link's options."""
    # No capacity tariff: the prices alone decide (a 35 kW peak would cost more than they earn).
    return {
        CONF_PLANNING: {
            "price_sensor": PRICES,
            "battery_capacity_kwh": 60.0,
            "capacity_tariff_eur_per_kw_year": 0.0,
        }
    }


@pytest.fixture
def link_options(planning: dict[str, Any]) -> dict[str, Any]:
    """The link's options with a planning section."""
    return {CONF_TEST_MODE: True, CONF_ENFORCEMENT: dict(ENFORCEMENT_OPTIONS), **planning}


@pytest.fixture(autouse=True)
def fixed_time(freezer: FrozenDateTimeFactory) -> None:
    """An afternoon on the hour: the cheap hours ahead are whole, the horizon reaches tomorrow."""
    freezer.move_to(datetime(2026, 12, 7, 14, 0, tzinfo=UTC))


def planner_of(site: Site) -> PlanningCoordinator:
    """The link's planning."""
    planning: PlanningCoordinator = site.entry.runtime_data.planning
    return planning


async def follow(site: Site, load_kw: float = 5.0) -> None:
    """Steps with the grid power the site's load and battery make, until steady."""
    for _ in range(5):
        battery = site.number(BESS_TARGET)
        site.set_power("sensor.bess_power", battery)
        await site.grid(load_kw - battery)


async def test_plan_from_a_price_sensor_and_its_triggers(
    hass: HomeAssistant, helpers: None, link_entry: MockConfigEntry
) -> None:
    """A plan on the sensor's prices; a new forecast and a command each make it again."""
    set_prices(hass, forecast())
    site = await start_site(hass, link_entry)
    planner = planner_of(site)
    state = planner.data
    assert state.plan is not None, state
    assert state.trigger == "start"
    # Cheap now, dear later: charge now, discharge later.
    assert state.plan.battery_kw[0] == pytest.approx(-30.0)
    assert max(state.plan.battery_kw) > 0
    assert "pv: none configured, zero" in state.fallbacks
    set_prices(hass, forecast(cheap_hours=0))
    await site.settle()
    assert planner.data.trigger == "prices"
    assert planner.data.plan is not None
    assert planner.data.plan.battery_kw[0] >= 0.0
    await site.command(Command.MAX_SET_P, 50.0)
    assert planner.data.trigger == "command"
    diagnostics = await async_get_config_entry_diagnostics(hass, site.entry)
    assert diagnostics["runtime"]["planning"]["reason"] is None


async def test_a_burst_of_commands_is_planned_for_once_after_they_are_kept(
    hass: HomeAssistant, helpers: None, link_entry: MockConfigEntry
) -> None:
    """Replanning follows commands once they are kept, never on their way to a confirmation;
    a burst of set-points does not make a plan each (a waiting replan takes the later ones)."""
    set_prices(hass, forecast())
    site = await start_site(hass, link_entry)
    planner = planner_of(site)
    triggers: list[str] = []
    unsubscribe_plans = planner.async_add_listener(lambda: triggers.append(planner.data.trigger))
    last_kept: list[object] = []
    unsubscribe_commands = site.enforcement.async_listen_commands(
        lambda: last_kept.append(list(site.link.audit)[-1].value)
    )
    for value in range(10):
        await site.link.async_simulate_command(Command.MAX_SET_P, 50.0 + value)
    await site.settle()
    unsubscribe_plans()
    unsubscribe_commands()
    # Told each time with the command already in the audit trail.
    assert last_kept == [50.0 + value for value in range(10)]
    assert 1 <= triggers.count("command") < 10
    assert planner.data.trigger == "command"


async def test_the_plan_is_followed_under_a_limit_and_a_stop(
    hass: HomeAssistant, helpers: None, link_entry: MockConfigEntry
) -> None:
    """A limit set mid-day is planned around; a stop during the plan wins at once."""
    set_prices(hass, forecast())
    site = await start_site(hass, link_entry)
    await hass.services.async_call(
        "switch",
        "turn_on",
        {"entity_id": "switch.grid_operator_link_follow_the_battery_plan"},
        blocking=True,
    )
    await follow(site)
    assert site.number(BESS_TARGET) == pytest.approx(-30.0)
    # MAXSETP 10 % of 100 kW: the plan keeps the import under 10 kW, the battery charges less.
    await site.command(Command.MAX_SET_P, 10.0)
    made = planner_of(site).data.plan
    assert made is not None
    assert max(made.grid_kw) <= 10.0 + 1e-6
    await follow(site)
    assert -5.0 <= site.number(BESS_TARGET) < 0.0
    # A stop of consumption: the battery stops charging at once, plan or not.
    await site.command(Command.EMERGENCY_STOP_CONSUMPTION, 1)
    assert site.number(BESS_TARGET) >= 0.0


@pytest.mark.parametrize(
    ("planning", "reason"),
    [
        ({}, "no_price_source"),
        ({CONF_PLANNING: {"price_sensor": PRICES}}, "no_battery_capacity"),
        (
            {CONF_PLANNING: {"price_sensor": "sensor.nothing", "battery_capacity_kwh": 60}},
            "prices_unreadable",
        ),
    ],
)
async def test_no_plan_says_why(
    hass: HomeAssistant, helpers: None, link_entry: MockConfigEntry, reason: str
) -> None:
    """Without prices or a capacity there is no plan, and the diagnostics say why."""
    set_prices(hass, forecast())
    site = await start_site(hass, link_entry)
    assert planner_of(site).data.plan is None
    diagnostics = await async_get_config_entry_diagnostics(hass, site.entry)
    assert diagnostics["runtime"]["planning"]["reason"] == reason


NORDPOOL_ENTRY = "01JNORDPOOL000000000000000"


@pytest.mark.parametrize(
    "planning",
    [{CONF_PLANNING: {"nordpool_entry": NORDPOOL_ENTRY, "battery_capacity_kwh": 60.0}}],
)
async def test_plan_from_nord_pools_action(
    hass: HomeAssistant, helpers: None, link_entry: MockConfigEntry
) -> None:
    """Nord Pool's action answers per area in €/MWh; tomorrow's prices are not out yet."""
    asked: list[dict[str, Any]] = []
    start = dt_util.start_of_local_day()

    async def prices(call: ServiceCall) -> ServiceResponse:
        asked.append(dict(call.data))
        if call.data["date"] != start.date().isoformat():
            return {"BE": []}  # HA 2026.x's answer before publication
        return {
            "BE": [
                {
                    "start": (start + timedelta(minutes=15 * i)).isoformat(),
                    "end": (start + timedelta(minutes=15 * (i + 1))).isoformat(),
                    "price": 100.0 + i,
                }
                for i in range(100)  # a day of 25 hours at most
            ]
        }

    hass.services.async_register(
        "nordpool", "get_prices_for_date", prices, supports_response=SupportsResponse.ONLY
    )
    site = await start_site(hass, link_entry)
    made = planner_of(site).data.plan
    assert made is not None
    assert {call["config_entry"] for call in asked} == {NORDPOOL_ENTRY}
    assert len(asked) == 2  # today and tomorrow
    assert made.start.astimezone(start.tzinfo).date() == start.date()
    assert planner_of(site).data.day_ahead_eur_per_kwh[0] > 0.1
    # Today's prices are kept; tomorrow's are asked again at the next plan.
    await planner_of(site).async_replan("test")
    assert len(asked) == 3


@pytest.mark.parametrize(
    "planning",
    [
        {
            CONF_PLANNING: {
                "nordpool_entry": NORDPOOL_ENTRY,
                "nordpool_area": "be",
                "battery_capacity_kwh": 60.0,
            }
        }
    ],
)
async def test_nord_pool_failures(
    hass: HomeAssistant, helpers: None, link_entry: MockConfigEntry
) -> None:
    """HA 2025.4 refuses a day without prices; a failure today means no plan, and says why."""
    start = dt_util.start_of_local_day()
    answers: dict[str, Any] = {}

    async def prices(call: ServiceCall) -> ServiceResponse:
        assert call.data["areas"] == "BE"
        answer = answers[call.data["date"]]
        if isinstance(answer, Exception):
            raise answer
        return answer  # type: ignore[no-any-return]

    hass.services.async_register(
        "nordpool", "get_prices_for_date", prices, supports_response=SupportsResponse.ONLY
    )
    today, tomorrow = start.date().isoformat(), (start + timedelta(days=1)).date().isoformat()
    answers[today] = {
        "BE": [
            {"start": (start + timedelta(hours=h)).isoformat(), "price": 90.0} for h in range(24)
        ]
    }
    answers[tomorrow] = ServiceValidationError("Nord Pool has no prices for that day")
    site = await start_site(hass, link_entry)
    assert planner_of(site).data.plan is not None
    answers[today] = HomeAssistantError("cannot connect")
    # Another area asks today's prices again.
    planning = {**link_entry.options[CONF_PLANNING], "nordpool_area": "BE"}
    hass.config_entries.async_update_entry(
        link_entry, options={**link_entry.options, CONF_PLANNING: planning}
    )
    await site.settle()
    state = planner_of(site).data
    assert state.reason == "prices_unreadable"
    assert "Nord Pool: cannot connect" in state.detail


async def test_replans_on_a_large_forecast_error_and_each_quarter(
    hass: HomeAssistant,
    helpers: None,
    link_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Two checks a minute apart far from the plan's grid power replan; so does a new quarter."""
    now = dt_util.utcnow().replace(minute=2, second=0, microsecond=0)
    freezer.move_to(now)
    set_prices(hass, forecast())
    site = await start_site(hass, link_entry)
    planner = planner_of(site)
    made = planner.data.plan
    assert made is not None
    site.now = now.timestamp()
    await site.grid(made.grid_kw[0] + 3.0)
    for minute in (1, 2):
        freezer.move_to(now + timedelta(minutes=minute))
        async_fire_time_changed(hass)
        await site.settle()
        assert planner.data.trigger == ("start" if minute == 1 else "forecast_error")
    freezer.move_to(now + timedelta(minutes=13, seconds=10))
    async_fire_time_changed(hass)
    await site.settle()
    assert planner.data.trigger == "quarter"


async def test_planning_options(
    hass: HomeAssistant, helpers: None, link_entry: MockConfigEntry
) -> None:
    """The planning section of the link's options: one price source, blanks left out, replanned."""
    site = await start_site(hass, link_entry)
    set_prices(hass, forecast())
    result = await hass.config_entries.options.async_init(site.entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    planning: dict[str, Any] = {
        "nordpool_entry": NORDPOOL_ENTRY,
        "price_sensor": PRICES,
        "import_factor": 1.1,
        "import_adder": 0.12,
        "export_factor": 0.9,
        "export_adder": -0.01,
        "battery_capacity_kwh": 40,
        "nordpool_area": "  ",
        "load_history_days": 3,
        "capacity_tariff_eur_per_kw_year": 42,
        "wear_eur_per_kwh": 0.03,
    }
    user_input = link_options_form(
        test_mode=True,
        **{
            CONF_ENFORCEMENT: dict(ENFORCEMENT_OPTIONS),
            CONF_PLANNING: planning,
        },
    )
    flow_id = result["flow_id"]
    result = await hass.config_entries.options.async_configure(flow_id, user_input)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_PLANNING: "planning_two_price_sources"}
    del planning["nordpool_entry"]
    result = await hass.config_entries.options.async_configure(flow_id, user_input)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert site.entry.options[CONF_PLANNING] == {
        "price_sensor": PRICES,
        "import_factor": 1.1,
        "import_adder": 0.12,
        "export_factor": 0.9,
        "export_adder": -0.01,
        "battery_capacity_kwh": 40.0,
        "load_history_days": 3,
        "capacity_tariff_eur_per_kw_year": 42.0,
        "wear_eur_per_kwh": 0.03,
    }
    await site.settle()
    made = planner_of(site).data.plan
    assert made is not None
    assert max(made.soe_kwh) <= 40.0


def link_entity(hass: HomeAssistant, site: Site, key: str) -> str:
    """Entity id of one of the link's sensors, by its unique id."""
    found = er.async_get(hass).async_get_entity_id("sensor", DOMAIN, f"{site.entry.entry_id}_{key}")
    assert found is not None, key
    return found


async def test_plan_entities(
    hass: HomeAssistant,
    helpers: None,
    link_entry: MockConfigEntry,
) -> None:
    """The planned power and the whole plan, costs, savings, peaks; unavailable without a plan."""
    # 15:00 in Brussels: the 36 hours planned reach the end of tomorrow.
    await hass.config.async_set_time_zone("Europe/Brussels")
    set_prices(hass, forecast(hours=48))
    site = await start_site(hass, link_entry)
    made = planner_of(site).data.plan
    assert made is not None
    planned = hass.states.get(link_entity(hass, site, "planned_battery_power"))
    assert planned is not None
    assert float(planned.state) == pytest.approx(made.battery_kw[0], abs=0.001)
    assert planned.attributes["unit_of_measurement"] == "kW"
    steps = planned.attributes["forecast"]
    assert len(steps) == len(made.battery_kw)
    assert steps[0] == {
        "start": made.start.isoformat(),
        "power_kw": pytest.approx(made.battery_kw[0], abs=0.001),
        "soe_pct": pytest.approx(100 * made.soe_kwh[0] / 60.0, abs=0.1),
        "grid_kw": pytest.approx(made.grid_kw[0], abs=0.001),
        "price_eur_per_kwh": NOW_CHEAP,
    }
    values = {
        key: hass.states.get(link_entity(hass, site, key))
        for key in (
            "expected_cost_today",
            "expected_cost_tomorrow",
            "savings_vs_no_battery",
            "savings_vs_self_consumption",
            "month_peak",
            "predicted_month_peak",
        )
    }
    for key, state in values.items():
        assert state is not None, key
        assert state.state not in ("unknown", "unavailable"), key
    present = {key: state for key, state in values.items() if state is not None}
    assert present["expected_cost_today"].attributes["unit_of_measurement"] == "EUR"
    assert float(present["savings_vs_no_battery"].state) == pytest.approx(
        made.savings_vs_no_battery_eur
    )
    assert float(present["predicted_month_peak"].state) == pytest.approx(
        made.predicted_month_peak_kw
    )
    # The prices gone: no plan, the plan's sensors unavailable; the month's peak stays.
    hass.states.async_set(PRICES, "0.1", {"unit_of_measurement": "€/kWh"})
    await site.settle()
    assert planner_of(site).data.reason == "prices_unreadable"
    for key, shown in (
        ("planned_battery_power", "unavailable"),
        ("expected_cost_today", "unavailable"),
        ("month_peak", "0.0"),
    ):
        state = hass.states.get(link_entity(hass, site, key))
        assert state is not None
        assert state.state == shown, key


async def test_no_plan_for_want_of_a_state_is_retried_each_minute(
    hass: HomeAssistant,
    helpers: None,
    link_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The battery's state of energy unknown at first: planned a minute after it is known."""
    freezer.move_to(datetime(2026, 12, 7, 14, 2, tzinfo=UTC))
    set_prices(hass, forecast())
    hass.states.async_set("sensor.bess_soe", "unavailable")
    site = await start_site(hass, link_entry)
    assert planner_of(site).data.reason == "no_state_of_energy"
    hass.states.async_set("sensor.bess_soe", "40", {"unit_of_measurement": "%"})
    freezer.tick(timedelta(minutes=1))
    async_fire_time_changed(hass)
    await site.settle()
    assert planner_of(site).data.trigger == "retry"
    assert planner_of(site).data.plan is not None


@pytest.mark.parametrize("assets", [[ASSETS[0]]])
async def test_no_battery_no_plan(
    hass: HomeAssistant, helpers: None, link_entry: MockConfigEntry
) -> None:
    """A link without a storage asset has nothing to plan."""
    set_prices(hass, forecast())
    site = await start_site(hass, link_entry)
    assert planner_of(site).data.reason == "no_battery"


@pytest.mark.parametrize(
    "planning",
    [
        {
            CONF_PLANNING: {
                "price_sensor": PRICES,
                "battery_capacity_kwh": 60.0,
                "pv_forecast_entry": "01JNOSUCHENTRY000000000000",
            }
        }
    ],
)
async def test_prices_of_the_past_and_a_missing_pv_forecast(
    hass: HomeAssistant, helpers: None, link_entry: MockConfigEntry
) -> None:
    """Prices that ended are no plan; a PV forecast entry that is gone counts as no PV."""
    hour = dt_util.utcnow().replace(minute=0, second=0, microsecond=0)
    set_prices(hass, [{"time": (hour - timedelta(hours=2)).isoformat(), "price": 0.1}])
    site = await start_site(hass, link_entry)
    assert planner_of(site).data.reason == "no_prices"
    set_prices(hass, forecast())
    await site.settle()
    state = planner_of(site).data
    assert state.plan is not None
    assert "pv: no config entry 01JNOSUCHENTRY000000000000; zero" in state.fallbacks
