"""The one table of Chinese words for every code a user reads (docs/contract.md keeps the codes).

Exports, dashboards (rendered into SQL as VALUES lists), notices, pages and CLI tables take their words
from here and nowhere else, so one concept has one word: 风险分值 (never 评分/计分), 重点系数, and the
levels named as Chinese safety work names them (重大/较大/一般/低, 红/橙/黄/蓝). A code without a label
is shown as it is (nothing is hidden), and tests/pipeline/test_labels.py fails for every code a producer
can send that has none.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from pipeline.area import Area

BEIJING = ZoneInfo("Asia/Shanghai")

SCORE = "风险分值"
MULTIPLIER = "重点系数"

# Most severe first: tables and legends list them in this order.
LEVEL_ORDER = ("critical", "high", "medium", "low")
LEVELS = {"critical": "重大", "high": "较大", "medium": "一般", "low": "低"}
LEVEL_COLOUR_NAMES = {"critical": "红", "high": "橙", "medium": "黄", "low": "蓝"}
LEVEL_COLOURS = {"critical": "#D62728", "high": "#FF7F0E", "medium": "#F2C200", "low": "#1F77B4"}
# Light tints of the same colours, for cell backgrounds under black text (xlsx, tables).
LEVEL_TINTS = {"critical": "#F8A5A5", "high": "#FFC98F", "medium": "#FFE98A", "low": "#B4D3EE"}

ENTITY_KINDS = {"person": "重点人员", "business": "经营主体", "location": "地点", "building": "楼栋",
                "checkpoint": "巡查点位"}

# Rule categories (config/rules.yaml) and the assignment categories (config/assignments.yaml).
CATEGORIES = {"fire": "消防安全", "safety": "安全隐患", "equipment": "设施设备", "public_order": "治安秩序",
              "patrol": "巡查覆盖", "dispute": "矛盾纠纷", "enforcement": "执法监管", "hazard": "安全隐患",
              "person": "重点人员"}

EVENT_KINDS = {"patrol": "巡查", "monitoring": "物联感知", "dispute": "矛盾纠纷", "hazard": "安全隐患",
               "inspection": "检查", "enforcement": "执法", "outreach": "普法宣传", "petition": "信访"}
EVENT_TYPES = {
    "patrol": {"patrol_started": "开始巡查", "checkpoint_visit": "巡查打卡", "issue_found": "巡查发现问题",
               "patrol_finished": "结束巡查"},
    "monitoring": {"smoke_alarm": "烟感报警", "gas_alarm": "燃气报警", "ebike_indoor_charging": "电动自行车入户充电",
                   "fire_exit_blocked": "消防通道堵塞", "access_forced": "门禁被强行打开",
                   "crowd_gathering": "人员聚集", "water_leak": "漏水报警", "device_offline": "设备离线"},
    "dispute": {"reported": "纠纷登记", "mediation_held": "开展调解", "escalated": "纠纷升级", "referred": "纠纷移交",
                "resolved": "纠纷化解"},
    "hazard": {"found": "发现隐患", "rectified": "隐患整改", "verified": "整改复查", "reopened": "隐患复发"},
    "inspection": {"unit_inspected": "检查生产经营单位", "task_published": "发布抽查任务",
                   "task_completed": "完成抽查任务"},
    "enforcement": {"warning_issued": "责令限期整改", "penalty_issued": "行政处罚"},
    "outreach": {"publicity_session": "普法宣传活动"},
    "petition": {"received": "信访受理", "replied": "信访答复"},
}
# A dispute's state after its latest step (矛盾纠纷台账 化解状态).
DISPUTE_STEPS = EVENT_TYPES["dispute"]
DISPUTE_STATES = {"reported": "处理中", "mediation_held": "处理中", "escalated": "已升级", "referred": "已移交",
                  "resolved": "已化解"}
# Monitoring types that report an alarm (监测报警); crowd counts and device health are not alarms.
ALARM_TYPES = ("smoke_alarm", "gas_alarm", "ebike_indoor_charging", "fire_exit_blocked", "access_forced",
               "water_leak")

DISPUTE_TYPES = {"neighbour_noise": "邻里噪音", "property_fee": "物业费争议", "water_leak_damage": "漏水损害赔偿",
                 "parking": "车位纠纷", "pet": "宠物扰邻", "rent_arrears": "拖欠租金", "other": "其他纠纷"}
# `electrical` is what producers send; `electric` was the old export table's spelling, kept for stored data.
HAZARD_CATEGORIES = {"fire": "消防", "electrical": "用电", "electric": "用电", "sundries": "杂物堆放",
                     "structure": "房屋结构", "gas": "燃气", "ebike": "电动自行车", "safety": "安全生产",
                     "other": "其他"}
# Event tags: hazard kinds and dispute markers (the dispute type itself is a tag too, see DISPUTE_TYPES).
TAGS = {"threat_of_violence": "扬言暴力", "hydrant_blocked": "消火栓被遮挡", "extinguisher_expired": "灭火器过期",
               "fire_door_damaged": "防火门损坏", "flying_wire_charging": "飞线充电",
               "overloaded_socket": "插座超负荷", "sundries_in_corridor": "走廊堆放杂物",
               "sundries_in_stairwell": "楼梯间堆放杂物", "facade_loose": "外墙饰面松动", "ceiling_crack": "吊顶开裂",
               "hydrant_box_damaged": "消火栓箱损坏", "property_management": "物业服务", "noise": "噪音扰民",
               "facility_repair": "设施报修", "rent": "租赁纠纷", "lighting_fault": "应急照明损坏",
               "flyer_posting": "张贴小广告", "ebike_in_corridor": "电动车停放楼道", "extinguisher_missing": "灭火器缺失",
               "smoking_in_stairwell": "楼梯间吸烟", "fire_door_open": "防火门常开"}
CHANNELS = {"online": "网上平台", "phone": "电话", "visit": "来访", "letter": "来信", "grid_worker": "网格员",
            "hotline": "热线", "walk_in": "上门反映"}

SOURCES = {"sensor-gw": "物联感知网关", "patrol-app": "巡查App", "guard-tour": "物业电子巡更", "mediation": "调解系统",
           "enforcement-app": "执法系统", "petition": "信访系统", "community": "社区", "ledger": "台账导入",
           "engine": "系统", "notifier": "系统"}

ALERT_STATES = {"open": "待确认", "acknowledged": "已确认", "resolved": "已解除", "closed": "已关闭"}
CASE_KINDS = {"hazard": "安全隐患", "dispute": "矛盾纠纷", "alert": "预警", "person": "一人一案"}
CASE_STATES = {"open": "待处置", "in_progress": "处理中", "referred": "已移交", "rectified": "已整改待复查",
               "acknowledged": "已确认", "resolved": "已解除", "closed": "已办结"}
DECISION_STATES = {"open": "落实中", "done": "已落实", "overdue": "逾期未落实"}
CASE_ACTIONS = {"note": "记录", "reassign": "转办", "close": "办结"}
# How a case of each kind ends when nobody wrote a reason (hazard verified, dispute resolved, ...).
CASE_ENDINGS = {"hazard": "已验收", "dispute": "已化解", "alert": "预警解除", "person": "已办结"}
NOTE_KINDS = {"measure": "处置措施", "progress": "进展"}
# Alert history and notice kinds.
ALERT_ACTIONS = {"raised": "产生预警", "upgraded": "等级上调", "notified": "发送通知", "acknowledged": "确认收到",
                 "escalated": "超时未确认，逐级上报", "resolved": "预警解除", "closed": "处置关闭"}
NOTICE_KINDS = {"raised": "新预警", "upgraded": "等级上调", "escalated": "超时未确认，已逐级上报",
                "resolved": "预警已解除", "closed": "预警已关闭"}
AUDIT_ACTIONS = {"reveal": "查看真实身份", "export": "导出报表", "acknowledge": "确认预警", "alert_close": "关闭预警",
                 "rules_apply": "应用规则变更", "purge": "清理过期数据", "registry_write": "写入人员登记",
                 "registry_rotate": "轮换登记密钥", "registry_lookup": "台账导入查询人员登记", "token_create": "创建令牌",
                 "token_revoke": "吊销令牌",
                 "page_login": "页面登录", "case_note": "记录案件处置", "case_reassign": "案件转办",
                 "case_close": "案件办结", "decision_add": "记录研判意见", "decision_done": "研判意见落实",
                 "link_revoke": "停用预警链接", "ledger_import": "工作台导入台账"}
# The street's ledgers `riskwatch import ledger --kind` reads (docs/contract.md §10), by their usual titles.
LEDGER_KINDS = {"disputes": "矛盾纠纷排查化解台账", "hazards": "安全隐患排查整改台账", "patrols": "巡查登记表",
                "inspections": "执法检查台账", "penalties": "行政处罚台账", "publicity": "普法宣传台账",
                "petitions": "信访及网上平台件", "tasks": "双随机抽查任务"}
# The keys of audit details as `audit list` shows them (the stored detail keeps its keys).
AUDIT_FIELDS = {"week": "周次", "year": "年度", "files": "文件", "file": "文件", "export": "导出", "format": "格式",
                "formats": "格式", "revealed": "含真实身份", "alert_id": "预警编号", "purpose": "用途", "context": "场合",
                "ids": "编号", "count": "数量", "to_key": "新密钥", "rotated": "已轮换", "new": "新增", "old": "原有",
                "name": "名称", "names": "名称", "leader_id": "包保领导", "decision": "研判意见", "case": "案件",
                "via": "方式", "to": "转至", "target": "对象", "source": "来源", "rows": "行数", "skipped_rows": "跳过行数",
                "role": "角色", "owner": "责任人", "kind": "类别", "expires_at": "到期时间", "events": "事件数",
                "diff": "规则变更", "what_if": "影响评估", "actor": "操作人", "token_sha256_prefix": "令牌摘要"}
# Values of the `export` detail.
EXPORT_KINDS = {"weekly": "周报", "annual": "年度数据", "meeting": "研判会简报"}
CHANNEL_TYPES = {"wecom": "企业微信", "dingtalk": "钉钉", "email": "邮件", "webhook": "Webhook 接口", "sms": "短信"}
NOTIFICATION_STATES = {"pending": "待发送", "sent": "已发送", "failed": "发送失败", "uncertain": "可能已送达（待核实）"}
ROLES = {"viewer": "查看", "analyst": "研判分析", "admin": "管理员", "leader": "包保领导"}

# Rejection reasons (docs/contract.md §1); `missing_field:<f>` and the like read "缺少字段 <f>".
REJECTIONS = {"invalid_json": "不是合法的 JSON", "not_an_object": "不是 JSON 对象", "too_large": "消息超过 64 KiB",
              "missing_field": "缺少字段", "invalid_field": "字段取值不合规", "unknown_field": "未定义的字段",
              "unknown_kind": "未知的事件大类", "unknown_type": "未知的事件类型", "naive_timestamp": "时间缺少时区",
              "future_timestamp": "时间晚于当前时钟"}

# Monitoring devices by the prefix of their id (config/area.yaml: sensors, and the per-unit/per-floor devices).
DEVICE_KINDS = {"USD": "户内独立烟感", "MTR": "智能电表", "HYD": "消火栓水压监测", "EML": "应急照明控制器", "SMK": "烟感探测器",
                "GAS": "燃气报警器", "EBK": "电动车识别摄像头", "FEX": "安全出口监测", "DOR": "门禁", "WTR": "水浸探测器"}

# Place words of location ids HD-<building>-<floor>-<place> (config/area.yaml's id scheme).
PLACES = {"corridor": "走廊", "lobby": "大堂", "stair": "楼梯间", "stair-west": "西侧楼梯间", "stair-east": "东侧楼梯间",
          "garage": "地下车库", "ebike": "电动车棚", "pump": "消防泵房", "roof": "屋面出口", "firedoor": "防火门",
          "exit": "安全出口", "exit-east": "东安全出口", "exit-west": "西安全出口", "door-main": "正门",
          "door-side": "侧门", "door-garage": "车库通道门", "door-pump": "消防泵房门", "door-roof": "屋面出口门",
          "elevator-a": "A梯", "elevator-b": "B梯", "tank": "屋顶水箱间"}

# Every table a code is looked up in, by the name tests and the dashboards' labels table use.
TABLES: dict[str, Mapping[str, str]] = {
    "level": LEVELS, "entity_kind": ENTITY_KINDS, "category": CATEGORIES, "event_kind": EVENT_KINDS,
    "dispute_type": DISPUTE_TYPES, "dispute_state": DISPUTE_STATES, "hazard_category": HAZARD_CATEGORIES, "tag": TAGS,
    "channel": CHANNELS, "source": SOURCES, "alert_state": ALERT_STATES, "case_kind": CASE_KINDS,
    "case_state": CASE_STATES, "decision_state": DECISION_STATES, "case_action": CASE_ACTIONS, "case_ending": CASE_ENDINGS,
    "note_kind": NOTE_KINDS, "alert_action": ALERT_ACTIONS,
    "notice_kind": NOTICE_KINDS, "audit_action": AUDIT_ACTIONS, "notification_state": NOTIFICATION_STATES,
    "role": ROLES, "ledger_kind": LEDGER_KINDS, "device_kind": DEVICE_KINDS, "rejection": REJECTIONS,
    "channel_type": CHANNEL_TYPES, "audit_field": AUDIT_FIELDS, "export_kind": EXPORT_KINDS,
}

_LOCATION = re.compile(r"HD-([0-9A-Za-z]+)-(B[0-9]+|[0-9]{2})(?:([0-9]{2})|-(S[0-9]+)|-([a-z][a-z0-9-]*))")


def label(table: Mapping[str, str], code: str | None) -> str:
    """The word for `code`, or the code itself when the table has none ("" for no code)."""
    if code is None:
        return ""
    return table.get(code, code)


def tag_label(tag: str) -> str:
    """A dispute type or other tag: neighbour_noise -> 邻里噪音."""
    return DISPUTE_TYPES.get(tag) or TAGS.get(tag, tag)


def rejection_label(reason: str) -> str:
    """invalid_json -> 不是合法的 JSON; missing_field:occurred_at -> 缺少字段 occurred_at."""
    code, _, field_name = reason.partition(":")
    word = label(REJECTIONS, code)
    return f"{word} {field_name}" if field_name else word


def case_state_label(kind: str, state: str) -> str:
    """A case's state as people say it: an alert case in the alert's words (待确认), others in CASE_STATES."""
    return label(ALERT_STATES if kind == "alert" else CASE_STATES, state)


def level_label(level: str | None, colour: bool = False) -> str:
    """重大 / 较大 / 一般 / 低; with colour: 重大（红）."""
    text = label(LEVELS, level)
    if colour and level in LEVEL_COLOUR_NAMES:
        text += f"（{LEVEL_COLOUR_NAMES[level]}）"
    return text


def level_colour(level: str | None) -> str:
    return LEVEL_COLOURS.get(level or "", "#8C8C8C")


def event_label(kind: str, type_: str | None = None) -> str:
    """The event type's word (烟感报警); the kind's word when no type is given."""
    if type_ is None:
        return label(EVENT_KINDS, kind)
    return EVENT_TYPES.get(kind, {}).get(type_, f"{kind}.{type_}")


def floor_label(floor: int | str) -> str:
    """12 -> 12层, -1 / B1 -> 地下1层, 1 -> 首层."""
    text = str(floor)
    if text.upper().startswith("B"):
        return f"地下{int(text[1:])}层"
    n = int(text)
    if n < 0:
        return f"地下{-n}层"
    return "首层" if n == 1 else f"{n}层"


def building_label(building: str | None) -> str:
    """1 -> 1号楼 (the short name people use; area.yaml's full name is for titles)."""
    if not building:
        return ""
    return f"{building}号楼"


def place_name(location_id: str, area: Area | None = None) -> str | None:
    """The Chinese name of a place: its name in area.yaml (checkpoint or fire-exit sensor place), else
    built from the id (HD-2-1203 -> 2号楼12层1203室, HD-2-09-corridor -> 2号楼9层走廊); None when the id
    follows no known scheme."""
    if area is not None:
        for cp in area.checkpoints:
            if cp.location == location_id:
                return cp.name
        for sensor in area.sensors:
            if sensor.location == location_id and sensor.type == "fire_exit":
                return sensor.name
    m = _LOCATION.fullmatch(location_id)
    if not m:
        return None
    building, floor, unit, shop, place = m.groups()
    head = building_label(building)
    if unit is not None:
        return f"{head}{int(floor)}层{floor}{unit}室"
    if shop is not None:
        return f"{head}底商{shop}"
    word = PLACES.get(place)
    if word is None:
        return None
    if floor == "01" and place.startswith(("exit", "lobby", "door", "elevator")):
        return f"{head}{'首层' if place.startswith('exit') else ''}{word}"
    if floor.startswith("B") and place in ("garage", "ebike", "pump"):
        return f"{head}{word}"
    return f"{head}{floor_label(floor)}{word}"


def entity_label(ref: str, area: Area | None = None) -> str:
    """person:P-0101 -> 重点人员 P-0101 (persons stay pseudonymous), location:HD-2-09-corridor -> 2号楼9层走廊,
    checkpoint:CP-1-F06 -> 1号楼6层走廊, building:2 -> 2号楼."""
    kind, sep, ident = ref.partition(":")
    if not sep:
        return ref
    if kind == "location":
        return place_name(ident, area) or f"地点 {ident}"
    if kind == "building":
        return building_label(ident)
    if kind == "checkpoint" and area is not None:
        for cp in area.checkpoints:
            if cp.id == ident:
                return cp.name
    return f"{label(ENTITY_KINDS, kind)} {ident}"


def score_text(value: float | None) -> str:
    """A score as people read it: whole numbers from 10 up (65), one decimal below (4.5, 3). Rounded down,
    so a shown score never reaches a level threshold the score itself has not (29.99 is "29", 低, not "30")."""
    if value is None:
        return "—"
    if abs(value) >= 10:
        return str(math.floor(value))
    return f"{math.floor(value * 10) / 10:.1f}".removesuffix(".0")


def percent_text(part: float, whole: float) -> str:
    """83.3% ("—" when there is nothing to divide by)."""
    if not whole:
        return "—"
    return f"{100 * part / whole:.1f}".removesuffix(".0") + "%"


def duration_text(seconds: float) -> str:
    """The largest whole unit: 1800 -> 30分钟, 14400 -> 4小时, 86400 -> 1天, 5400 -> 1.5小时."""
    for size, unit in ((86400, "天"), (3600, "小时"), (60, "分钟")):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    for size, unit in ((3600, "小时"), (60, "分钟")):
        if seconds >= size:
            return f"{seconds / size:.1f}".removesuffix(".0") + unit
    return f"{seconds:g}秒"


def local(dt: datetime, tz: ZoneInfo = BEIJING) -> datetime:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(tz)


def time_text(dt: datetime | None, tz: ZoneInfo = BEIJING, year: bool = False) -> str:
    """Beijing time as people write it: 11月5日 04:05 (with year: 2024年11月5日 04:05)."""
    if dt is None:
        return ""
    t = local(dt, tz)
    head = f"{t.year}年" if year else ""
    return f"{head}{t.month}月{t.day}日 {t:%H:%M}"


def date_text(day: date | datetime | None, tz: ZoneInfo = BEIJING, year: bool = True) -> str:
    """2024年11月5日 (a datetime is taken in Beijing time first)."""
    if day is None:
        return ""
    if isinstance(day, datetime):
        day = local(day, tz).date()
    return f"{day.year}年{day.month}月{day.day}日" if year else f"{day.month}月{day.day}日"


def week_text(monday: date) -> str:
    """The official style: 2024年第45周（11月4日—11月10日）; the year is the ISO week's year."""
    iso_year, week, _ = monday.isocalendar()
    sunday = monday + timedelta(days=6)
    first = date_text(monday, year=monday.year != iso_year)
    last = date_text(sunday, year=sunday.year != monday.year)
    return f"{iso_year}年第{week}周（{first}—{last}）"
