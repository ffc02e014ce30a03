"""Home Assistant side of the grid operator link: the IEC-104 server wired to the Netflex model.

The link coordinator owns the DSO state. It decides each command with the provider's data
model, saves an accepted state before confirming it, mirrors it on the feedback points, reports
the category measurements, records clock syncs and keeps the audit trail. The enforcement reads
the state through ``GridLinkData`` (documented in netflex/README.md).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import threading
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from queue import SimpleQueue
from typing import TYPE_CHECKING, Any, Final

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_PORT
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryError, ConfigEntryNotReady, ServiceValidationError
from homeassistant.helpers.device_registry import DeviceEntry, DeviceEntryType, DeviceInfo
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.storage import STORAGE_DIR, Store
from homeassistant.util import dt as dt_util

from ..audit_chain import ChainedStore
from ..compat import async_register_main_device, via_device
from ..const import DOMAIN, TITLE
from ..enforcement.ports import DsoListener
from ..entity import DeviceCoordinator, DeviceRef
from ..iec104 import (
    CauseOfTransmission,
    ClockSyncRequest,
    CommandResult,
    ConnectionEvent,
    ConnectionState,
    DoubleMonitorPoint,
    DoublePointValue,
    FloatMonitorPoint,
    MonitorPoint,
    ProcessCommand,
    ProtocolParameters,
    Quality,
    RefusedCommand,
    Server,
    SingleMonitorPoint,
    Station,
    TypeID,
    WhenFull,
    create_tls_context,
)
from ..netflex import (
    DEFAULT_IOAS,
    INTERFACE_VERSION,
    LOCAL_SOURCE,
    STATE_STORAGE_VERSION,
    ZERO_POWERS,
    Accepted,
    Asset,
    AssetCategory,
    AuditRecord,
    AuditTrail,
    CategoryPowers,
    ChainStatus,
    Command,
    CommandRequest,
    CommandValue,
    ConnectionRecord,
    DsoState,
    GridOperatorModel,
    MonitorValue,
    PowerLimits,
    Provider,
    Refusal,
    SignConvention,
    SiteParameters,
    StateJournal,
    category_sums,
    connection_log,
    create_model,
    dump_state,
    load_state,
)
from ..states import kilo_value
from ..wording import LOG_LANGUAGE, BurstLog, Texts, command_sentence
from .const import (
    CONF_ALLOWED_CLIENTS,
    CONF_BIND_HOST,
    CONF_CATEGORY,
    CONF_COMMON_ADDRESS,
    CONF_EXPORT_CAPACITY,
    CONF_IMPORT_CAPACITY,
    CONF_INSTALLED_POWER,
    CONF_INVERT_SIGN,
    CONF_K,
    CONF_LINK,
    CONF_LINK_LOST_AFTER,
    CONF_MEASUREMENT_PERIOD,
    CONF_P_SENSOR,
    CONF_PROVIDER,
    CONF_Q_SENSOR,
    CONF_SIGN_CONVENTION,
    CONF_T0,
    CONF_T1,
    CONF_T2,
    CONF_T3,
    CONF_TEST_MODE,
    CONF_TLS_CERTIFICATE,
    CONF_TLS_CLIENT_CA,
    CONF_TLS_KEY,
    CONF_W,
    CONF_WHEN_FULL,
    DEFAULT_LINK_OPTIONS,
    DEFAULT_MEASUREMENT_PERIOD,
    EVENT_DSO_COMMAND,
    SUBENTRY_ASSET,
)

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigSubentry

    from ..enforcement import EnforcementCoordinator
    from ..planning import PlanningCoordinator
    from .commissioning import CommissioningRunner


_LOGGER = logging.getLogger(__package__)

MAX_CONNECTIONS: Final = 1
AUDIT_SAVE_DELAY: Final = 5
"""Seconds the audit trail may wait before it is written; accepted states never wait."""


@dataclass(frozen=True, slots=True)
class LinkSettings:
    """What the running server is built from; any change restarts the link."""

    provider: Provider
    bind_host: str
    port: int
    common_address: int
    allowed_clients: tuple[str, ...]
    tls_certificate: str | None
    tls_key: str | None
    tls_client_ca: str | None
    points: Mapping[str, object]
    """The IOA options; the provider's model fills in the defaults."""
    parameters: ProtocolParameters
    when_full: WhenFull
    link_lost_after: float
    """Seconds of stopped data transfer or silence after which a connected RTU counts as lost."""

    @classmethod
    def from_entry(cls, entry: GridLinkConfigEntry) -> LinkSettings:
        """Read the settings of a link entry."""
        data = entry.data
        link = link_options(entry.options)
        return cls(
            provider=Provider(data[CONF_PROVIDER]),
            bind_host=data[CONF_BIND_HOST],
            port=int(data[CONF_PORT]),
            common_address=int(data[CONF_COMMON_ADDRESS]),
            allowed_clients=tuple(data.get(CONF_ALLOWED_CLIENTS, ())),
            tls_certificate=data.get(CONF_TLS_CERTIFICATE),
            tls_key=data.get(CONF_TLS_KEY),
            tls_client_ca=data.get(CONF_TLS_CLIENT_CA),
            points={key: entry.options[key] for key in DEFAULT_IOAS if key in entry.options},
            parameters=protocol_parameters(link),
            when_full=WhenFull(link[CONF_WHEN_FULL]),
            link_lost_after=float(link[CONF_LINK_LOST_AFTER]),
        )


def link_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """The link section of entry options over its defaults."""
    return {**DEFAULT_LINK_OPTIONS, **options.get(CONF_LINK, {})}


def protocol_parameters(link: Mapping[str, Any]) -> ProtocolParameters:
    """The IEC-104 timers and windows of a link section; ValueError if the standard forbids them.

    The link-lost time must also exceed t3, or an idle link that answers our tests would count
    as silent.
    """
    parameters = ProtocolParameters(
        k=int(link[CONF_K]),
        w=int(link[CONF_W]),
        t0=float(link[CONF_T0]),
        t1=float(link[CONF_T1]),
        t2=float(link[CONF_T2]),
        t3=float(link[CONF_T3]),
    )
    if float(link[CONF_LINK_LOST_AFTER]) <= parameters.t3:
        raise ValueError("the link-lost time must be longer than t3")
    return parameters


@dataclass(frozen=True, slots=True)
class LinkOptions:
    """Options the running link applies in place."""

    measurement_period: timedelta
    sign_convention: SignConvention
    test_mode: bool
    """Allows simulated commands (``grid_ems.simulate_dso_command``) for commissioning."""

    @classmethod
    def from_entry(cls, entry: GridLinkConfigEntry) -> LinkOptions:
        """Read the options of a link entry."""
        options = entry.options
        return cls(
            measurement_period=timedelta(
                seconds=options.get(CONF_MEASUREMENT_PERIOD, DEFAULT_MEASUREMENT_PERIOD)
            ),
            sign_convention=SignConvention(
                options.get(CONF_SIGN_CONVENTION, SignConvention.PRODUCTION_POSITIVE)
            ),
            test_mode=bool(options.get(CONF_TEST_MODE, False)),
        )


def tls_context(data: Mapping[str, Any]) -> ssl.SSLContext | None:
    """The TLS server context of link entry data, None without certificate.

    Blocking (reads the files); raises OSError or ssl.SSLError if they are not usable.
    """
    certificate, key = data.get(CONF_TLS_CERTIFICATE), data.get(CONF_TLS_KEY)
    if certificate is None or key is None:
        return None
    return create_tls_context(certificate, key, client_ca_file=data.get(CONF_TLS_CLIENT_CA))


def asset_from_subentry(subentry: ConfigSubentry) -> Asset:
    """The asset an ``asset`` subentry registers."""
    data = subentry.data
    return Asset(
        asset_id=subentry.subentry_id,
        name=subentry.title,
        category=AssetCategory(data[CONF_CATEGORY]),
        installed_power_kw=float(data[CONF_INSTALLED_POWER]),
        p_sensor=data[CONF_P_SENSOR],
        q_sensor=data.get(CONF_Q_SENSOR) or None,
        invert_sign=bool(data.get(CONF_INVERT_SIGN, False)),
    )


def site_from_entry(entry: GridLinkConfigEntry) -> SiteParameters:
    """Contractual capacities from the entry data and the assets from its subentries."""
    return SiteParameters(
        import_capacity_kw=float(entry.data[CONF_IMPORT_CAPACITY]),
        export_capacity_kw=float(entry.data[CONF_EXPORT_CAPACITY]),
        assets=tuple(
            asset_from_subentry(subentry)
            for subentry in entry.subentries.values()
            if subentry.subentry_type == SUBENTRY_ASSET
        ),
    )


@dataclass(frozen=True, slots=True)
class RtuConnection:
    """The connected RTU."""

    address: str
    port: int
    connected_at: datetime
    started: bool
    """Whether data transfer is started (STARTDT); the RTU may keep a stopped standby link."""
    lost: str | None = None
    """Why the connected RTU counts as lost (data transfer stopped or silent too long)."""


@dataclass(frozen=True, slots=True)
class LinkSnapshot:
    """What the link's entities show."""

    state: DsoState
    site: SiteParameters
    measurements: CategoryPowers
    rtu: RtuConnection | None = None
    last_command: AuditRecord | None = None
    clock_offset: timedelta | None = None
    """RTU clock minus Home Assistant's clock at the last clock synchronization."""
    clock_synced_at: datetime | None = None
    rtu_replaced_at: datetime | None = None
    """When an RTU connection last replaced an older one (that one was closed)."""

    @property
    def link_up(self) -> bool:
        """Whether an RTU is connected and neither stopped nor silent for the link-lost time."""
        return self.rtu is not None and self.rtu.lost is None

    @property
    def limits(self) -> PowerLimits:
        """The DSO state resolved against the site."""
        return self.state.limits(self.site)


def _update_point(point: MonitorPoint, value: MonitorValue) -> None:
    match point:
        case SingleMonitorPoint():
            point.update(bool(value.value), value.quality)
        case DoubleMonitorPoint():
            point.update(DoublePointValue(int(value.value)), value.quality)
        case FloatMonitorPoint():
            point.update(float(value.value), value.quality)


def _add_point(station: Station, value: MonitorValue) -> MonitorPoint:
    point: MonitorPoint
    match value.type_id:
        case TypeID.M_SP_NA_1:
            point = station.add_single_point(value.ioa)
        case TypeID.M_DP_NA_1:
            point = station.add_double_point(value.ioa)
        case _:
            point = station.add_float_point(value.ioa)
    _update_point(point, value)
    return point


def _service_value(command: Command, number: float) -> CommandValue:
    """A simulated command's number as the protocol would carry it (1/0 for ON/OFF)."""
    match command.command_type:
        case TypeID.C_SC_NA_1 if number in (0, 1):
            return bool(number)
        case TypeID.C_DC_NA_1 if number.is_integer():
            return int(number)
        case _:
            return number


def _legacy_state_store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, CommandValue]]:
    """Where links before the journal kept their DSO state (read once, then removed)."""
    return Store(hass, STATE_STORAGE_VERSION, f"{DOMAIN}.{entry_id}.dso_state", atomic_writes=True)


def journal_path(hass: HomeAssistant, entry_id: str) -> Path:
    """The file of a link's state journal, next to Home Assistant's other storage."""
    return Path(hass.config.path(STORAGE_DIR, f"{DOMAIN}.{entry_id}.dso_state.jsonl"))


type _Job = tuple[Callable[[], Any], asyncio.Future[Any]]


class DsoStateStore:
    """Where a link keeps its DSO state: a journal (``StateJournal``) on its own thread.

    Its own thread, so that a save before a confirmation never queues behind Home Assistant's
    shared executor jobs; one thread, so that the lines are written in command order. It takes
    its jobs from a plain queue and hands the outcome back with one callback into the loop:
    fewer steps than an executor's futures, on the path of every confirmation.
    """

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Prepare the journal in Home Assistant's storage folder; nothing is opened yet."""
        self._hass = hass
        self._entry_id = entry_id
        self._journal = StateJournal(journal_path(hass, entry_id))
        self._jobs: SimpleQueue[_Job | None] = SimpleQueue()
        self._thread: threading.Thread | None = None

    async def _async_run[T](self, job: Callable[[], T]) -> T:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._serve, name=f"{DOMAIN}_dso_state", daemon=True
            )
            self._thread.start()
        future: asyncio.Future[T] = self._hass.loop.create_future()
        self._jobs.put((job, future))
        return await future

    def _serve(self) -> None:
        """The thread: run the jobs in order until told to stop (None)."""
        loop = self._hass.loop
        while (item := self._jobs.get()) is not None:
            job, future = item
            try:
                result = job()
            except Exception as err:  # handed to the awaiting task
                loop.call_soon_threadsafe(_settle, future, None, err)
            else:
                loop.call_soon_threadsafe(_settle, future, result, None)

    async def async_load(self) -> Mapping[str, object] | None:
        """The stored state (``dump_state`` form); moves a state of the old store over.

        Raises ValueError if the journal is not readable.
        """
        stored = await self._async_run(self._journal.load)
        if stored is not None:
            return stored
        legacy = _legacy_state_store(self._hass, self._entry_id)
        old = await legacy.async_load()
        if old is not None:
            await self._async_run(partial(self._journal.compact, old))
            await legacy.async_remove()
        return old

    async def async_save(self, data: Mapping[str, object]) -> None:
        """Append a state and flush it to the disk; raises OSError if that fails."""
        await self._async_run(partial(self._journal.append, data))

    async def async_close(self) -> None:
        """Close the journal and end its thread."""
        if self._thread is not None:
            await self._async_run(self._journal.close)
            thread, self._thread = self._thread, None
            self._jobs.put(None)
            await self._hass.async_add_executor_job(thread.join)

    async def async_remove(self) -> None:
        """Delete the journal (and a state of the old store)."""
        await self.async_close()
        await self._hass.async_add_executor_job(self._journal.remove)
        await _legacy_state_store(self._hass, self._entry_id).async_remove()


def _settle(future: asyncio.Future[Any], result: Any, error: Exception | None) -> None:
    """Give a job's outcome to its future, unless its waiter gave up (cancelled)."""
    if future.cancelled():
        return
    if error is None:
        future.set_result(result)
    else:
        future.set_exception(error)


def audit_store(hass: HomeAssistant, entry_id: str) -> ChainedStore:
    """Where a link keeps its audit trail (hash-chained) and its RTU connection changes."""
    return ChainedStore(hass, f"{DOMAIN}.{entry_id}.audit", "records")


_REFUSALS: Final = {
    CauseOfTransmission.UNKNOWN_TYPE: Refusal.UNKNOWN_TYPE,
    CauseOfTransmission.UNKNOWN_CAUSE: Refusal.UNKNOWN_CAUSE,
    CauseOfTransmission.UNKNOWN_COMMON_ADDRESS: Refusal.UNKNOWN_COMMON_ADDRESS,
    CauseOfTransmission.UNKNOWN_IOA: Refusal.UNKNOWN_IOA,
}
"""The refusal each negative cause (44 to 47) of the server stands for."""


def _refusal(refused: RefusedCommand) -> Refusal:
    """Why the server refused a command by itself."""
    if (refusal := _REFUSALS.get(refused.reply_cause)) is not None:
        return refusal
    # A negative confirmation: a select, or a double command state other than ON/OFF.
    return Refusal.SELECT_NOT_SUPPORTED if refused.select else Refusal.INVALID_VALUE


class GridLinkCoordinator(DeviceCoordinator[LinkSnapshot]):
    """The grid operator link: IEC-104 server, DSO state, storage, measurements and audit."""

    config_entry: GridLinkConfigEntry

    def __init__(self, hass: HomeAssistant, entry: GridLinkConfigEntry) -> None:
        """Read the entry; ``async_start`` restores the state and starts the server."""
        super().__init__(hass, _LOGGER, config_entry=entry, name=f"{DOMAIN} grid operator link")
        self.settings = LinkSettings.from_entry(entry)
        self.options = LinkOptions.from_entry(entry)
        self.model: GridOperatorModel = create_model(self.settings.provider, self.settings.points)
        self.audit = AuditTrail()
        self._command_log = BurstLog(_LOGGER)
        self.connections = connection_log()
        """The RTU's recent connection changes, kept with the audit trail."""
        self.data = LinkSnapshot(DsoState(), site_from_entry(entry), ZERO_POWERS)
        self.server: Server | None = None
        self._state_store = DsoStateStore(hass, entry.entry_id)
        self._audit_store = audit_store(hass, entry.entry_id)
        self._command_lock = asyncio.Lock()
        self._points: dict[int, MonitorPoint] = {}
        self._feedback_quality: dict[Command, Quality] = {}
        self._state_listeners: list[DsoListener] = []
        self._command_listeners: list[Callable[[], None]] = []
        self._told_link_up = False
        self._obeyed: DsoState | None = None
        self._unkept: list[AuditRecord] = []
        """Recorded commands the audit trail takes after their reply (see ``_record``)."""
        """An accepted command's state while it is being saved (see ``_async_execute``)."""
        self._cancel_report: CALLBACK_TYPE | None = None
        self.device: DeviceEntry = async_register_main_device(
            hass, entry.entry_id, self.device_info
        )
        """The link's device, registered before its entities so that assets can refer to it."""

    # Life cycle ----------------------------------------------------------------------------

    async def async_start(self) -> None:
        """Restore state and audit trail, then start the server with the restored points."""
        state = await self._async_load_state()
        await self._async_load_audit()
        self.data = replace(
            self.data,
            state=state,
            measurements=self._read_measurements(),
            last_command=self.audit.last,
        )
        server = await self._async_create_server()
        try:
            await server.start()
        except OSError as err:
            raise ConfigEntryNotReady(
                translation_domain=DOMAIN,
                translation_key="link_cannot_listen",
                translation_placeholders={"port": str(self.settings.port), "error": str(err)},
            ) from err
        self.server = server
        self._schedule_reports()

    async def async_stop(self) -> None:
        """Stop reporting and the server, and write the audit trail now."""
        if self._cancel_report is not None:
            self._cancel_report()
            self._cancel_report = None
        if self.server is not None:
            await self.server.stop()
            self.server = None
        await self._state_store.async_close()
        self._keep()
        await self._audit_store.async_save(self._audit_data())

    async def _async_load_state(self) -> DsoState:
        try:
            stored = await self._state_store.async_load()
            if stored is None:
                return DsoState()
            return load_state(stored)
        except ValueError as err:
            _LOGGER.error(
                "Stored DSO state is not valid (%s); starting from the start-up state until the "
                "grid operator sends its commands again",
                err,
            )
            return DsoState()

    async def _async_load_audit(self) -> None:
        """Restore the audit trail as stored (nothing dropped) and check its hash chain."""
        stored, records, anchor = await self._audit_store.async_load_trail()
        self.audit = AuditTrail(records, anchor)
        for index, error in self.audit.unreadable:
            _LOGGER.warning("Stored audit record %s is not readable (%s); kept", index, error)
        try:
            self.connections = connection_log(
                ConnectionRecord.from_dict(item) for item in stored.get("connections", ())
            )
        except (KeyError, TypeError, ValueError) as err:
            _LOGGER.warning("Stored RTU connection log is not readable (%s)", err)
        self._audit_store.async_report(self.config_entry.entry_id, self.audit.status)

    async def _async_create_server(self) -> Server:
        settings = self.settings
        try:
            ssl_context = await self.hass.async_add_executor_job(
                tls_context, self.config_entry.data
            )
        except (OSError, ssl.SSLError) as err:
            raise ConfigEntryError(
                translation_domain=DOMAIN,
                translation_key="link_tls_invalid",
                translation_placeholders={"error": str(err)},
            ) from err
        server = Server(
            settings.bind_host,
            settings.port,
            parameters=settings.parameters,
            allowed_clients=settings.allowed_clients or None,
            max_connections=MAX_CONNECTIONS,
            when_full=settings.when_full,
            supervision=settings.link_lost_after,
            ssl_context=ssl_context,
            on_command=self._async_on_command,
            on_clock_sync=self._async_on_clock_sync,
            on_connection_event=self._on_connection_event,
            on_command_refused=self._on_command_refused,
        )
        station = server.add_station(settings.common_address)
        for ioa, accepted_types in self.model.command_points().items():
            station.add_command_point(ioa, accepted_types)
        for value in self.model.monitor_values(self.data.state, {}, self.data.measurements):
            self._points[value.ioa] = _add_point(station, value)
        return server

    @property
    def device_info(self) -> DeviceInfo:
        """The link's device: Grid EMS's side of the grid operator's telecontrol."""
        return DeviceInfo(
            identifiers={(DOMAIN, self.device_unique_id)},
            translation_key="grid_link",
            manufacturer=TITLE,
            model=f"{self.settings.provider.title()} Netflex {INTERFACE_VERSION} (IEC 60870-5-104)",
            entry_type=DeviceEntryType.SERVICE,
            # The integration's page, where the link's "Add asset" is.
            configuration_url=f"homeassistant://config/integrations/integration/{DOMAIN}",
        )

    def asset_device_ref(self, subentry: ConfigSubentry) -> DeviceRef:
        """An asset's device; its entities keep the link's unique id prefix they always had."""
        return DeviceRef(self.asset_device_info(subentry), self.device_unique_id)

    def asset_device_info(self, subentry: ConfigSubentry) -> DeviceInfo:
        """The device of an asset, in the asset's subentry, connected through the link."""
        return DeviceInfo(
            identifiers={(DOMAIN, f"{self.device_unique_id}_{subentry.subentry_id}")},
            name=subentry.title,
            manufacturer=TITLE,
            entry_type=DeviceEntryType.SERVICE,
            **via_device(self.device),
        )

    @property
    def port(self) -> int:
        """The port the server listens on (the real one when configured with 0)."""
        assert self.server is not None
        return self.server.address[1]

    # Public API of the link (see netflex/README.md) ------------------------------------------

    @property
    def state(self) -> DsoState:
        """The DSO state the site obeys: the last accepted value of every command.

        While an accepted command's state is being saved, it is already that new state.
        """
        return self.data.state if self._obeyed is None else self._obeyed

    @property
    def site(self) -> SiteParameters:
        """Contractual capacities and the registered assets."""
        return self.data.site

    @property
    def link_up(self) -> bool:
        """Whether the RTU is connected and transferring data (``LinkSnapshot.link_up``)."""
        return self.data.link_up

    @callback
    def async_update_listeners(self) -> None:
        """Update the entities; tell the state listeners when the link came or went."""
        super().async_update_listeners()
        if self.data.link_up != self._told_link_up:
            self._told_link_up = self.data.link_up
            for listener in list(self._state_listeners):
                listener(self.state, None)

    @callback
    def async_subscribe(self, listener: DsoListener) -> CALLBACK_TYPE:
        """Call ``listener(state, record)`` when the state the site obeys may change.

        That is as soon as a command is accepted, before its state is saved and confirmed, and
        again with the previous state and the refused record if that save fails; with no record
        when the RTU link comes or goes. Returns the unsubscribe callback.
        """
        self._state_listeners.append(listener)
        return lambda: self._state_listeners.remove(listener)

    @callback
    def async_listen_commands(self, listener: Callable[[], None]) -> CALLBACK_TYPE:
        """Call ``listener`` once accepted commands are confirmed, kept and announced.

        For what may follow a command at leisure (a new battery plan): never on the way to the
        grid operator's confirmation. Returns the unsubscribe callback.
        """
        self._command_listeners.append(listener)
        return lambda: self._command_listeners.remove(listener)

    @property
    def commissioning_allowed(self) -> bool:
        """Whether local commands may drive the site: in test mode, or with no RTU connected."""
        return self.options.test_mode or self.state.test_mode or self.data.rtu is None

    def feedback(self, command: Command) -> MonitorValue:
        """What the feedback point of ``command`` shows the grid operator now."""
        quality = self._feedback_quality.get(command, Quality.GOOD)
        return self.model.feedback_value(self.data.state, command, quality)

    @callback
    def async_set_feedback_quality(self, command: Command, quality: Quality) -> None:
        """Set the quality of a command's feedback point and send it spontaneously.

        The enforcement lowers it (INVALID, NOT_TOPICAL...) when it cannot execute the command
        and restores GOOD when it can; a newly accepted command starts again at GOOD.
        """
        self._feedback_quality[command] = quality
        self._transmit(
            [self._show(self.model.feedback_value(self.data.state, command, quality))],
            CauseOfTransmission.SPONTANEOUS,
        )

    # Commands ------------------------------------------------------------------------------

    async def _async_on_command(self, request: ProcessCommand) -> CommandResult:
        """Decide a command from the RTU; the server confirms and sends the feedback."""
        _, feedback = await self._async_execute(
            CommandRequest(request.ioa, request.type_id, request.value),
            source=request.peer[0],
            common_address=request.common_address,
        )
        if feedback is None:
            return CommandResult.reject()
        return CommandResult.accept(feedback=(feedback,))

    async def async_simulate_command(self, command: Command, number: float) -> AuditRecord:
        """Execute a command as if the RTU sent it (commissioning); only in test mode."""
        if not self.options.test_mode:
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="link_not_in_test_mode"
            )
        return await self.async_execute_local(command, number)

    async def async_execute_local(self, command: Command, number: float) -> AuditRecord:
        """Execute a local command on the RTU's own path; the caller checks it is allowed.

        Decided, obeyed, saved, confirmed, mirrored and audited as ``local``, as an RTU command.
        """
        record, feedback = await self._async_execute(
            CommandRequest(
                self.model.command_ioa(command),
                command.command_type,
                _service_value(command, number),
            ),
            source=LOCAL_SOURCE,
            common_address=self.settings.common_address,
            replying=False,
        )
        if feedback is not None:
            self._transmit([feedback], CauseOfTransmission.SPONTANEOUS)
        return record

    async def _async_execute(
        self, request: CommandRequest, *, source: str, common_address: int, replying: bool = True
    ) -> tuple[AuditRecord, MonitorPoint | None]:
        """Decide a command, have the site obey it, save it, then confirm and record it.

        Commands are decided one at a time so that each sees the state the previous one left.
        The site obeys an accepted command while its state is being saved (an emergency stop
        must not wait for the disk); the grid operator is confirmed only once it is saved.
        ``replying``: a reply to the RTU follows once this returns (see ``_record``).
        """
        async with self._command_lock:
            previous = self.data.state
            decision = self.model.decide(previous, request)
            record = AuditRecord(
                time=dt_util.utcnow(),
                source=source,
                common_address=common_address,
                ioa=request.ioa,
                type_name=request.type_id.name,
                command=decision.command,
                value=request.value,
                refusal=None if isinstance(decision, Accepted) else decision.refusal,
            )
            state = previous
            feedback: MonitorPoint | None = None
            if isinstance(decision, Accepted):
                self._obey(decision.state, record)
                try:
                    if decision.state != previous:
                        await self._state_store.async_save(dump_state(decision.state))
                except OSError:
                    # A state that is not on disk would be lost by a restart: refuse it, and
                    # the site goes back to the state the grid operator still sees.
                    _LOGGER.exception("Could not save the grid operator state; refusing")
                    record = replace(record, refusal=Refusal.NOT_PERSISTED)
                    self._obey(previous, record)
                else:
                    state = decision.state
                    self._feedback_quality.pop(decision.command, None)
                    feedback = self._show(
                        self.model.feedback_value(state, decision.command, Quality.GOOD)
                    )
                finally:
                    self._obeyed = None
            self._record(record, state, replying=replying)
        return record, feedback

    @callback
    def _obey(self, state: DsoState, record: AuditRecord) -> None:
        """Make ``state`` the one the site obeys and tell the listeners, ``record`` its cause."""
        self._obeyed = state
        for listener in list(self._state_listeners):
            try:
                listener(state, record)
            except Exception:
                _LOGGER.exception(
                    "A listener of the grid operator's state failed after: %s",
                    command_sentence(Texts(self.hass, LOG_LANGUAGE), record.as_dict()),
                )

    @callback
    def _on_command_refused(self, refused: RefusedCommand) -> None:
        """Record a command the server refused by itself (type, cause, address, select, state)."""
        self._record(
            AuditRecord(
                time=dt_util.utcnow(),
                source=refused.peer[0],
                common_address=refused.common_address,
                ioa=refused.ioa,
                type_name=refused.type_name,
                command=None if refused.ioa is None else self.model.command_at(refused.ioa),
                value=refused.value,
                refusal=_refusal(refused),
            ),
            self.data.state,
        )

    @callback
    def _record(self, record: AuditRecord, state: DsoState, *, replying: bool = True) -> None:
        """Take a command's outcome into the snapshot now; keep and announce it after the reply.

        The next command is decided on ``state`` at once. ``replying``: the server confirms or
        refuses the command once this returns, so the audit trail and the log line (they cost
        more than the rest of the reply) wait for the next loop iteration; otherwise they are
        kept now. Either way the records are kept in the order of the commands, and the bus
        event and the entities follow on a later iteration.
        """
        self.data = replace(self.data, state=state, last_command=record)
        self._unkept.append(record)
        if not replying:
            self._keep()
        elif len(self._unkept) == 1:
            self.hass.loop.call_soon(self._keep)

    @callback
    def _keep(self) -> None:
        """Keep the recorded commands in the audit trail, log them and announce them."""
        records, self._unkept = self._unkept, []
        if not records:
            return  # kept already, by a command recorded without a reply
        texts = Texts(self.hass, LOG_LANGUAGE)
        for record in records:
            self.audit.append(record)
            data = record.as_dict()
            value = data["value"]
            # A burst of setpoints (or of one stop toggled) logs its first line, then debug lines.
            self._command_log.log(
                logging.INFO if record.accepted else logging.WARNING,
                (record.command, value if isinstance(value, bool) else None, record.accepted),
                command_sentence(texts, data),
            )
        self._audit_store.async_report(self.config_entry.entry_id, self.audit.status)
        self._audit_store.async_delay_save(self._audit_data, AUDIT_SAVE_DELAY)
        self.hass.loop.call_soon(self._announce, records)

    @callback
    def _announce(self, records: list[AuditRecord]) -> None:
        # Entities first: an automation on the event reads the new state.
        self.async_update_listeners()
        for record in records:
            self.hass.bus.async_fire(
                EVENT_DSO_COMMAND, {"entry_id": self.config_entry.entry_id, **record.as_dict()}
            )
        if any(record.accepted for record in records):
            for listener in list(self._command_listeners):
                listener()

    def _audit_data(self) -> dict[str, Any]:
        return {
            **self._audit_store.trail_data(self.audit.as_list(), self.audit.anchor),
            "connections": [record.as_dict() for record in self.connections],
        }

    def audit_chain(self) -> dict[str, Any]:
        """The command audit's chain for diagnostics: status, anchor and migrations."""
        return self._audit_store.diagnostics(self.audit.status, self.audit.anchor)

    # Monitor direction ---------------------------------------------------------------------

    def _show(self, value: MonitorValue) -> MonitorPoint:
        """Put a value on its point (what the next GI returns) and return the point."""
        point = self._points[value.ioa]
        _update_point(point, value)
        return point

    def _transmit(self, points: list[MonitorPoint], cause: CauseOfTransmission) -> None:
        if self.server is not None:
            self.server.transmit(points, cause)

    def _read_measurements(self) -> CategoryPowers:
        site = self.data.site
        readings = {
            entity_id: kilo_value(self.hass.states.get(entity_id))
            for asset in site.assets
            for entity_id in (asset.p_sensor, asset.q_sensor)
            if entity_id is not None
        }
        return category_sums(site.assets, readings, self.options.sign_convention)

    @callback
    def async_report_measurements(self) -> None:
        """Read the asset sensors and send the category sums as periodic data (COT 1)."""
        measurements = self._read_measurements()
        points = [self._show(value) for value in self.model.measurement_values(measurements)]
        self._transmit(points, CauseOfTransmission.PERIODIC)
        self.async_set_updated_data(replace(self.data, measurements=measurements))

    @callback
    def _async_report_periodically(self, _now: datetime) -> None:
        self.async_report_measurements()

    def _schedule_reports(self) -> None:
        if self._cancel_report is not None:
            self._cancel_report()
        self._cancel_report = async_track_time_interval(
            self.hass,
            self._async_report_periodically,
            self.options.measurement_period,
            name=f"{DOMAIN} grid link measurements",
            cancel_on_shutdown=True,
        )

    @callback
    def async_apply(self, options: LinkOptions, site: SiteParameters) -> None:
        """Apply new options and assets without restarting the server."""
        period_changed = options.measurement_period != self.options.measurement_period
        self.options = options
        self.data = replace(self.data, site=site)
        measurements = self._read_measurements()
        for value in self.model.measurement_values(measurements):
            self._show(value)
        self.async_set_updated_data(replace(self.data, measurements=measurements))
        if period_changed:
            self._schedule_reports()

    # Server events -------------------------------------------------------------------------

    async def _async_on_clock_sync(self, request: ClockSyncRequest) -> bool:
        """Accept the RTU's clock synchronization and record the offset from ours."""
        now = dt_util.utcnow()
        offset = request.time - now
        _LOGGER.info(
            "Clock synchronized by %s: %s (offset %.3f s)",
            request.peer[0],
            request.time.isoformat(),
            offset.total_seconds(),
        )
        self.async_set_updated_data(replace(self.data, clock_offset=offset, clock_synced_at=now))
        return True

    @callback
    def _on_connection_event(self, event: ConnectionEvent) -> None:
        data = self.data
        rtu = data.rtu
        if event.state is ConnectionState.CONNECTED:
            rtu = RtuConnection(*event.peer, dt_util.utcnow(), started=False)
        else:
            # One connection at a time, and the server reports a replaced connection's CLOSED
            # before the new one's CONNECTED: every other event is the shown connection's.
            assert rtu is not None
            assert (rtu.address, rtu.port) == event.peer
            match event.state:
                case ConnectionState.STARTED | ConnectionState.STOPPED:
                    rtu = replace(rtu, started=event.state is ConnectionState.STARTED)
                case ConnectionState.LOST:
                    _LOGGER.warning("RTU %s link lost: %s", event.peer[0], event.reason)
                    rtu = replace(rtu, lost=event.reason)
                case ConnectionState.RESTORED:
                    _LOGGER.info("RTU %s link restored", event.peer[0])
                    rtu = replace(rtu, lost=None)
                case _ if event.replaced_by is not None:
                    _LOGGER.warning(
                        "RTU connection %s:%s replaced by a new one from %s:%s",
                        *event.peer,
                        *event.replaced_by,
                    )
                    data = replace(data, rtu_replaced_at=dt_util.utcnow())
                    rtu = None
                case _:
                    _LOGGER.info("RTU %s disconnected: %s", event.peer[0], event.reason)
                    rtu = None
        self.connections.append(
            ConnectionRecord(
                dt_util.utcnow(),
                event.peer[0],
                event.state.value,
                event.reason,
                None if event.replaced_by is None else event.replaced_by[0],
            )
        )
        self._audit_store.async_delay_save(self._audit_data, AUDIT_SAVE_DELAY)
        self.async_set_updated_data(replace(data, rtu=rtu))

    # Diagnostics ---------------------------------------------------------------------------

    def diagnostics(self) -> dict[str, Any]:
        """The link's runtime state and audit trail; network addresses redacted."""
        data = self.data
        return async_redact_data(
            {
                "port": self.port if self.server is not None else None,
                "state": dump_state(data.state),
                "limits": asdict(data.limits),
                "site": asdict(data.site),
                "measurements": {
                    category.value: asdict(power) for category, power in data.measurements.items()
                },
                "feedback_quality": {
                    command.value: quality.name
                    for command, quality in self._feedback_quality.items()
                },
                "rtu": None if data.rtu is None else asdict(data.rtu),
                "link_up": data.link_up,
                "clock_offset_s": None
                if data.clock_offset is None
                else data.clock_offset.total_seconds(),
                "clock_synced_at": data.clock_synced_at,
                "options": {
                    CONF_MEASUREMENT_PERIOD: self.options.measurement_period.total_seconds(),
                    CONF_SIGN_CONVENTION: self.options.sign_convention,
                    CONF_TEST_MODE: self.options.test_mode,
                    CONF_LINK: {
                        **asdict(self.settings.parameters),
                        CONF_WHEN_FULL: self.settings.when_full,
                        CONF_LINK_LOST_AFTER: self.settings.link_lost_after,
                    },
                },
                "audit": self.audit.as_list(),
                "connections": [record.as_dict() for record in self.connections],
            },
            {"address", "source", "replaced_by", CONF_PORT},
        )


@dataclass(slots=True)
class GridLinkData:
    """Runtime data of a grid operator link entry.

    The enforcement uses ``coordinator``: its ``state`` and ``site`` (immutable snapshots),
    ``async_subscribe`` (called back as soon as a command is accepted) and
    ``async_set_feedback_quality`` (flags a feedback point it could not honour).
    """

    coordinator: GridLinkCoordinator
    enforcement: EnforcementCoordinator
    """Carries the DSO state out on the site's assets (enforcement.py)."""
    commissioning: CommissioningRunner
    """The certification rehearsal and its reports (commissioning.py)."""
    planning: PlanningCoordinator
    """Plans the batteries on prices and forecasts; the enforcement follows the plan."""

    def chain_status(self) -> dict[str, ChainStatus]:
        """Whether the hash chains verify: ``commands`` (the grid operator's) and ``actions``.

        Each ``ChainStatus`` has ``state`` (verified, broken or empty), ``verified`` (not
        broken), ``records`` (kept) and ``broken_at`` (index of the first broken record, 0 =
        oldest kept, None unless broken).
        """
        return {
            "commands": self.coordinator.audit.status,
            "actions": self.enforcement.actions.status,
        }

    def diagnostics(self) -> dict[str, Any]:
        """Return the entry's runtime state for diagnostics, identifiers redacted."""
        return {
            **self.coordinator.diagnostics(),
            "audit_chain": {
                "commands": self.coordinator.audit_chain(),
                "actions": self.enforcement.action_chain(),
            },
            "enforcement": self.enforcement.diagnostics(),
            "commissioning": self.commissioning.diagnostics(),
            "planning": self.planning.diagnostics(),
        }


type GridLinkConfigEntry = ConfigEntry[GridLinkData]
