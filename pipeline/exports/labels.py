"""Chinese labels used by the exports (the data keeps its codes; people read these)."""

from pipeline.explain import LEVEL_ZH

LEVELS_ZH = LEVEL_ZH                      # low 低, medium 中, high 高, critical 极高
LEVEL_ORDER = ["critical", "high", "medium", "low"]
ENTITY_TYPE_ZH = {"person": "人员", "business": "经营主体", "location": "点位", "building": "楼栋",
                  "checkpoint": "巡查点"}
ALERT_STATUS_ZH = {"open": "待确认", "acknowledged": "已确认", "resolved": "已解除", "closed": "已关闭"}
DISPUTE_STEP_ZH = {"reported": "登记", "mediation_held": "调解", "escalated": "升级", "referred": "移交",
                   "resolved": "化解"}
DISPUTE_STATE_ZH = {"resolved": "已化解", "referred": "已移交", "escalated": "已升级"}
HAZARD_CATEGORY_ZH = {"fire": "消防", "sundries": "杂物堆放", "electric": "用电", "gas": "燃气", "ebike": "电动车",
                      "structure": "建筑结构", "safety": "安全生产"}
CATEGORY_ZH = {"fire": "消防", "safety": "安全", "equipment": "设备", "public_order": "治安", "patrol": "巡查",
               "dispute": "纠纷", "enforcement": "执法"}
