"""The demo's assortment: its categories and products, each product with its summary,
highlights, variants at market prices and sales mode (direct, lead or share-only). Names and
texts are in Chinese, as the company's shop holds them; slugs are given, in ASCII, so that
links stay short and readable (``slugify`` would spell the Chinese names in pinyin)."""

from __future__ import annotations

from dataclasses import dataclass

from shop.catalog.models import SalesMode


@dataclass(frozen=True)
class DemoProduct:
    slug: str
    name: str
    category: str  # slug
    summary: str
    highlights: tuple[str, ...]
    variants: tuple[tuple[str, int], ...] = ()  # (name, market price in major units)
    mode: SalesMode = SalesMode.direct


CATEGORIES = (  # (slug, name)
    ("tea-coffee", "茶饮咖啡"),
    ("kitchen-home", "厨房家居"),
    ("electronics", "数码电子"),
    ("health-wellness", "健康养生"),
    ("outdoor-travel", "户外出行"),
)

PRODUCTS = (
    DemoProduct(
        "west-lake-longjing-green-tea",
        "西湖龙井明前绿茶",
        "tea-coffee",
        "杭州西湖产区春茶，清明前采摘。",
        ("小锅手工炒制", "栗香馥郁，回甘清甜", "明前头采"),
        (("100克罐装", 268), ("250克礼盒装", 598)),
    ),
    DemoProduct(
        "yunnan-pu-er-tea-cake",
        "云南普洱茶饼",
        "tea-coffee",
        "经典357克七子饼，古树原料。",
        ("传统石磨压制", "越陈越香，适合存放", "耐冲泡，十泡以上仍有余味"),
        (("生茶", 198), ("熟茶", 178)),
    ),
    DemoProduct(
        "jasmine-silver-needle",
        "茉莉银针",
        "tea-coffee",
        "白茶芽头，茉莉鲜花七次窨制。",
        ("鲜花窨制，不加香精", "花香清雅，滋味鲜爽", "自封袋包装，便于保存"),
        (("50克", 158),),
    ),
    DemoProduct(
        "single-origin-coffee-beans",
        "单一产区咖啡豆",
        "tea-coffee",
        "合作烘焙坊按单新鲜烘焙。",
        ("发货前一周内烘焙", "整豆，单向排气阀袋装", "袋上附风味描述"),
        (("云南卡蒂姆 500克", 128), ("埃塞俄比亚耶加雪菲 500克", 168), ("意式拼配 1千克", 218)),
    ),
    DemoProduct(
        "gongfu-tea-set",
        "功夫茶具套装",
        "tea-coffee",
        "盖碗、公道杯加六只品茗杯，一套泡齐。",
        ("高温窑烧瓷器", "附竹制茶盘", "瓷器可用洗碗机清洗"),
        (("青瓷", 399), ("黑陶", 459)),
    ),
    DemoProduct(
        "pour-over-coffee-kit",
        "手冲咖啡套装",
        "tea-coffee",
        "滤杯、分享壶、滤纸，再配一把细口手冲壶。",
        ("萃取均匀", "壶盖内置温度计", "附赠100张滤纸"),
        (("玻璃款", 259), ("陶瓷款", 289)),
    ),
    DemoProduct(
        "cast-iron-wok",
        "铸铁炒锅",
        "kitchen-home",
        "32厘米炒锅，出厂已开锅，大火爆炒不在话下。",
        ("燃气灶、电磁炉通用", "越用越不粘", "实木锅柄"),
        (("32厘米", 329),),
    ),
    DemoProduct(
        "smart-rice-cooker",
        "智能电饭煲",
        "kitchen-home",
        "4升IH电磁加热电饭煲，手机App一键选菜单。",
        ("IH电磁加热", "十二种烹饪模式", "24小时保温"),
        (("白色", 699), ("石墨灰", 699)),
    ),
    DemoProduct(
        "bamboo-cutting-board-set",
        "竹砧板三件套",
        "kitchen-home",
        "生肉、果蔬、面包各用一块，生熟分开。",
        ("可持续种植的竹材", "带防溢水槽", "带挂孔，方便收纳"),
        (("三件套", 139),),
    ),
    DemoProduct(
        "goose-down-duvet",
        "白鹅绒被",
        "kitchen-home",
        "轻盈保暖，一年四季都能盖。",
        ("90%白鹅绒", "全棉面料", "可机洗"),
        (("单人 150×200厘米", 1299), ("双人 200×230厘米", 1699), ("加大双人 220×240厘米", 1999)),
    ),
    DemoProduct(
        "aroma-diffuser",
        "实木香薰机",
        "kitchen-home",
        "超声波雾化，实木外壳。",
        ("运行静音", "八小时定时", "暖光小夜灯"),
        (("橡木", 199), ("胡桃木", 229)),
    ),
    DemoProduct(
        "whole-home-water-purifier",
        "全屋净水系统",
        "kitchen-home",
        "全屋过滤，专业师傅上门安装。",
        ("含上门勘测和安装", "五级过滤", "滤芯定期更换服务"),
        mode=SalesMode.lead,
    ),
    DemoProduct(
        "noise-cancelling-headphones",
        "头戴式降噪耳机",
        "electronics",
        "包耳式设计，充一次电能听30小时。",
        ("自适应主动降噪", "蓝牙多设备连接", "附折叠收纳盒"),
        (("黑色", 1499), ("银色", 1499)),
    ),
    DemoProduct(
        "wireless-charging-pad",
        "无线充电板",
        "electronics",
        "15W快充，手机和耳机都能充。",
        ("Qi认证", "防滑表面", "附USB-C数据线"),
        (("15W", 149),),
    ),
    DemoProduct(
        "mechanical-keyboard",
        "机械键盘",
        "electronics",
        "紧凑的75%配列，轴体支持热插拔。",
        ("铝合金外壳", "蓝牙、有线双模", "中英双语键帽"),
        (("茶轴", 599), ("红轴", 599), ("静音轴", 649)),
    ),
    DemoProduct(
        "27-inch-4k-monitor",
        "27英寸4K显示器",
        "electronics",
        "IPS面板，USB-C接口支持90W充电。",
        ("出厂逐台校色", "升降旋转支架", "笔记本一根线连接"),
        (("27英寸", 2499),),
    ),
    DemoProduct(
        "smart-watch",
        "智能手表",
        "electronics",
        "健康监测、移动支付，都在手腕上。",
        ("心率、血氧监测", "续航十天", "50米防水"),
        (("41毫米", 1199), ("45毫米", 1299)),
    ),
    DemoProduct(
        "neigou-x1-phone-preview",
        "X1旗舰手机抢先看",
        "electronics",
        "合作品牌的下一代旗舰机：抢先了解，分享给亲友。",
        ("今年秋季发布", "可分享给亲友先睹为快", "暂未开售"),
        mode=SalesMode.share_only,
    ),
    DemoProduct(
        "massage-gun",
        "筋膜枪",
        "health-wellness",
        "五档力度，深层放松肌肉。",
        ("四种按摩头", "无刷电机，运行安静", "续航六小时"),
        (("石墨灰", 499), ("燕麦色", 499)),
    ),
    DemoProduct(
        "yoga-mat",
        "天然橡胶瑜伽垫",
        "health-wellness",
        "6毫米天然橡胶，双面防滑。",
        ("带体位线", "附背带", "不含PVC"),
        (("莲花粉", 189), ("墨蓝", 189), ("苔绿", 189)),
    ),
    DemoProduct(
        "electric-toothbrush",
        "声波电动牙刷",
        "health-wellness",
        "声波震动，带压力感应。",
        ("三种清洁模式", "两分钟智能计时", "附旅行收纳盒"),
        (("白色", 329), ("黑色", 329)),
    ),
    DemoProduct(
        "annual-health-check-package",
        "年度体检套餐",
        "health-wellness",
        "在合作医院做一次全面体检。",
        ("健康顾问帮你预约", "可选家庭套餐", "医生一对一解读报告"),
        mode=SalesMode.lead,
    ),
    DemoProduct(
        "herbal-sleep-pillow",
        "草本助眠枕",
        "health-wellness",
        "荞麦壳加薰衣草，清凉安神好入睡。",
        ("填充量可调节", "全棉枕套可拆洗", "安徽产"),
        (("标准款", 259), ("护颈曲线款", 299)),
    ),
    DemoProduct(
        "goji-and-jujube-gift-box",
        "枸杞红枣礼盒",
        "health-wellness",
        "宁夏枸杞配新疆红枣。",
        ("自然晾晒", "无添加糖", "礼盒包装"),
        (("1千克", 168),),
    ),
    DemoProduct(
        "carry-on-suitcase",
        "20英寸登机箱",
        "outdoor-travel",
        "聚碳酸酯箱体，静音万向轮。",
        ("TSA海关锁", "可扩容4厘米", "十年质保"),
        (("磨砂黑", 899), ("香槟金", 899), ("鼠尾草绿", 899)),
    ),
    DemoProduct(
        "trekking-backpack",
        "徒步登山包",
        "outdoor-travel",
        "40升大容量，透气背板。",
        ("附防雨罩", "腰带口袋", "水袋仓"),
        (("橄榄绿", 459), ("炭灰", 459)),
    ),
    DemoProduct(
        "insulated-water-bottle",
        "不锈钢保温杯",
        "outdoor-travel",
        "保冷24小时，保温12小时。",
        ("不锈钢内胆", "杯盖防漏", "可放进车载杯架"),
        (("500毫升", 129), ("750毫升", 149)),
    ),
    DemoProduct(
        "two-person-camping-tent",
        "双人露营帐篷",
        "outdoor-travel",
        "五分钟搭好，收起来只有2公斤。",
        ("双层帐", "前后双门", "附地布"),
        (("双人款", 799),),
    ),
    DemoProduct(
        "travel-adapter-kit",
        "全球通用转换插头",
        "outdoor-travel",
        "一个插头，150多个国家和地区通用。",
        ("三个USB接口", "内置保险丝", "附收纳袋"),
        (("全球通用款", 99),),
    ),
    DemoProduct(
        "hainan-island-resort-week",
        "三亚度假酒店七日游",
        "outdoor-travel",
        "合作品牌在三亚的度假酒店，分享给你的亲友。",
        ("分享给亲友", "合作品牌展示", "不在线销售"),
        mode=SalesMode.share_only,
    ),
)


def product_slug(spec: DemoProduct) -> str:
    return spec.slug
