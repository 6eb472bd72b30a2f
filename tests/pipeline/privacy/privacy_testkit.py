"""Shared data of the privacy tests."""

PEOPLE = {
    "P-0007": {"name": "王建国", "phone": "13812345678"},
    "P-0101": {"name": "李秀兰", "phone": "13987654321", "note": "1507室租户"},
}
PURPOSE = "风险研判会议核实当事人身份"
