"""What the synthetic people, departments, products and festivals are called: Chinese, as the
company's own would be (the demo shows them beside its own on the dashboard and in the shop).
Drawn from the index, not the random stream, so the data set's shape does not change with them."""

from __future__ import annotations

from datetime import datetime

_FAMILY = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
_GIVEN = (
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英",
    "霞", "平", "刚", "桂英", "华", "建华", "文", "玲", "婷", "宇", "浩", "欣怡", "子涵", "雨桐", "梓萱", "一诺",
    "思远", "俊杰", "晨", "佳琪", "嘉豪", "诗涵", "博文", "雅静", "志强", "海燕", "晓东", "丹", "鑫", "颖",
)  # fmt: skip

DEPARTMENT_NAMES = (
    "研发一部", "研发二部", "产品部", "设计部", "市场部", "销售一部",
    "销售二部", "客户服务部", "运营部", "财务部", "人力资源部", "行政部",
)  # fmt: skip


def person(i: int) -> str:
    """The i-th person's name: a family name and a given name (names repeat, as in any large
    company)."""
    return _FAMILY[i % len(_FAMILY)] + _GIVEN[(i // len(_FAMILY)) % len(_GIVEN)]


def product(k: int) -> str:
    return f"内购精选 {k + 1:02d} 号"


def festival(launch: datetime) -> str:
    return f"{launch.year}年{launch.month}月内购节"
