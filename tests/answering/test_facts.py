"""What a question asks for, and whether quoted bulletin text states it (plain functions, real sentences)."""

from __future__ import annotations

from bot.answering.facts import asked_kinds, unstated
from index.normalize import normalize_text

# sentences as they stand in the bundled issues
MIXED_SAMPLING = (
    "便民采样点继续实行10人1管混合采样，免费检测；如需单人单管检测，可到区人民医院等医疗机构核酸检测门诊进行。"
)
GAS_CHECK = "检查人员统一穿工装、佩戴工作证，不收取任何费用。"
ROADWORK = [
    "我区将对柳园南路（东昌路至建设路段）实施雨污分流改造。",
    "施工时间为12月6日至2023年1月20日，施工期间该路段由北向南方向封闭。",
]
VACCINE_SITES = [
    "为方便子女春节期间陪同老人接种疫苗，区卫健局安排，1月份每周六、周日各接种点正常接种；",
    "春节假期区疾控中心接种门诊和各街道社区卫生服务中心接种点照常开放。",
]
PRICE_HOTLINE = [
    "近期，退烧药、抗原检测试剂等药品和防疫物资需求增加。",
    "发现问题的，可拨打12315投诉举报，或拨打区市场监管局电话0635-8379315。",
]
SCREENING_PLACE = (
    "筛查地点：区妇幼保健院门诊楼三楼妇女保健科，接待时间为周一至周五8:00—11:30；"
    "农村妇女也可在各镇卫生院参加集中筛查，具体日期由村妇联执委提前通知。"
)


def missing(question: str, sentences: list[str]) -> list[str]:
    return unstated(normalize_text(question), [normalize_text(s) for s in sentences])


def test_kinds_of_fact_asked():
    assert [k.name for k in asked_kinds("游泳馆办张年卡多少钱")] == ["price"]
    assert [k.name for k in asked_kinds("暖器不热打那个电话")] == ["phone"]
    assert [k.name for k in asked_kinds("多长时间给答复")] == ["duration"]  # not also a clock time
    assert [k.name for k in asked_kinds("退烧药涨价去哪举报")] == ["contact"]  # not a place to go
    assert asked_kinds("阳了还用隔离吗") == []  # yes/no: nothing to check
    assert [k.name for k in asked_kinds("失业金一个月发多少")] == ["amount"]
    assert [k.name for k in asked_kinds("图书馆一张证能借几本书")] == ["amount"]
    assert [k.name for k in asked_kinds("防汛值班电话是多少")] == ["phone"]  # a number to call, not an amount
    assert [k.name for k in asked_kinds("失业金最多能领几个月")] == ["duration"]
    assert [k.name for k in asked_kinds("这高龄津贴上哪申请去")] == ["place"]  # 上哪, said as 去哪
    assert [k.name for k in asked_kinds("退烧药卖得死贵，上哪告去")] == ["contact"]


def test_a_price_about_something_else_does_not_answer():
    assert missing("单人单管的核酸多少钱一次", [MIXED_SAMPLING]) == ["price"]
    assert missing("便民采样点做核酸还要钱吗", [MIXED_SAMPLING]) == []
    assert missing("燃气公司上门检查要收钱吗", [GAS_CHECK]) == []
    assert missing("燃气报警器多少钱一个", [GAS_CHECK]) == ["price"]


def test_a_clause_that_refers_back_takes_the_topic_before_it():
    assert missing("柳园南路修到什么时候", ROADWORK) == []
    assert missing("柳园南路修到什么时候", ROADWORK[1:]) == ["time"]


def test_a_place_for_another_vaccine_does_not_answer():
    assert missing("狂犬疫苗在哪打", VACCINE_SITES) == ["place"]
    assert missing("孩子们今年啥时候放寒假", VACCINE_SITES) == ["time"]


def test_a_hotline_may_close_the_article_it_belongs_to():
    assert missing("退烧药涨价上哪投诉", PRICE_HOTLINE) == []
    assert missing("退烧药涨价打什么电话", PRICE_HOTLINE) == []
    assert missing("公交车月票多少钱", PRICE_HOTLINE) == ["price"]


def test_english_questions_are_checked_for_the_kind_only():
    assert missing("What time does the library open?", ["开放时间为周二至周日9:00—17:00。"]) == []
    assert missing("How much does a bus ticket cost?", ["开放时间为周二至周日9:00—17:00。"]) == ["price"]


def test_numbers_may_be_written_in_chinese():
    reply = ["12345热线受理后，承办单位原则上在五个工作日内答复群众。"]
    assert missing("打了12345多久能有回音", reply) == []
    assert missing("打了12345多久能有回音", ["12345热线受理群众的咨询、求助、投诉和建议。"]) == ["duration"]
    assert missing("区图书馆电话多少", ["区图书馆咨询电话：8263578。"]) == []


LIBRARY_CARD = [
    "市民持本人身份证即可免费办理，不收取押金；每证可借阅图书5册，借期30天。",
    "区图书馆自2月21日起调整开放时间。",
]


def test_an_amount_is_stated_only_by_a_number_with_its_unit():
    assert missing("图书馆一张证能借几本书", LIBRARY_CARD) == []
    assert missing("图书馆一张证能借几本书", LIBRARY_CARD[1:]) == ["amount"]  # a date is not how many books


HOTLINE_REPLY = "热线受理后，一般在1个工作日内转交相关部门办理，承办单位原则上在5个工作日内答复群众。"
INSURANCE_CLOSED = "2023年度城乡居民医保集中缴费期已于2月28日结束，此后缴费的按规定设置待遇等待期。"


def test_a_duration_is_stated_by_a_length_of_time_not_by_a_date():
    assert missing("打了12345多长时间能答复", [HOTLINE_REPLY]) == []
    # "2023年度" and "2月28日" date the payment period; they do not say how long anything takes
    assert missing("城乡居民医保缴费期多长时间", [INSURANCE_CLOSED]) == ["duration"]


def test_a_day_asked_as_weekday_or_date_is_a_time_and_a_count_of_working_days_is_not():
    assert [k.name for k in asked_kinds("湖西街道儿童接种门诊周几能打针")] == ["time"]
    assert [k.name for k in asked_kinds("植树报名截止到几号")] == ["time"]
    assert "time" not in [k.name for k in asked_kinds("政务服务中心几号楼")]
    # "5个工作日内" says how long a reply takes, not when the office is open
    assert missing("承办单位几点上班", [HOTLINE_REPLY]) == ["time"]


def test_free_is_asked_when_a_clause_ends_on_it_not_when_it_names_the_service():
    assert [k.name for k in asked_kinds(normalize_text("做核酸现在还免费不"))] == ["free"]
    assert [k.name for k in asked_kinds(normalize_text("电动车上牌要花钱不"))] == ["free"]
    assert [k.name for k in asked_kinds(normalize_text("是不是免费的？"))] == ["free"]
    # the free screening and the free vaccine are the services: a place and a date are asked
    assert [k.name for k in asked_kinds(normalize_text("婦女兩癌免費篩查要去哪裡做？"))] == ["place"]
    assert [k.name for k in asked_kinds(normalize_text("老人免费流感疫苗能打到什么时候"))] == ["time"]
    # so the sentence with the place states what is asked, though it says nothing of a price (holdout4's notice)
    assert missing("婦女兩癌免費篩查要去哪裡做？", [SCREENING_PLACE]) == []
