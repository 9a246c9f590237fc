package demo

import (
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/hotline/hotline/caselog"
)

// The words of the demo: what consumers of a Chinese city's hotline say, and
// what its staff write. Every name is made up.

var (
	platforms = []string{"淘宝", "京东", "拼多多", "抖音直播间", "美团", "闲鱼", "唯品会", "小红书"}
	shops     = []string{"优品数码旗舰店", "鑫源家电专营店", "潮流服饰工厂店", "好运母婴店", "佳美家居馆", "蓝海手机专卖", "悦享生活馆", "金牌鞋业"}
	items     = []string{"电水壶", "蓝牙耳机", "空气炸锅", "羽绒服", "儿童安全座椅", "扫地机器人", "手机", "电动牙刷", "运动鞋", "破壁机", "平板电脑", "净水器"}
	gyms      = []string{"力美健身", "动感空间健身会所", "乐刻运动", "星辰瑜伽馆", "铁人健身工作室"}
	repairs   = []string{"快修手机维修店", "极客数码维修", "苹果特约维修中心（非官方）", "诚信家电维修部"}
	districts = []string{"浦东新区", "徐汇区", "静安区", "闵行区", "杨浦区", "宝山区", "长宁区", "普陀区"}
	streets   = []string{"张杨路", "漕溪北路", "南京西路", "七莘路", "五角场", "共康路", "天山路", "真北路"}
	eateries  = []string{"老王麻辣烫", "好再来小吃", "川香阁餐厅", "阿婆馄饨店", "大碗面馆", "鲜果切水果捞"}
	markets   = []string{"联华超市", "好德便利店", "惠民生鲜超市", "家家乐超市"}
	schools   = []string{"启航英语培训", "小天才编程", "阳光艺术学校", "学霸教育"}
	enShops   = []string{"BrightTech Store", "Sunshine Electric", "Urban Outfit Outlet", "HappyHome Mall"}
	enItems   = []string{"kettle", "pair of headphones", "air fryer", "winter coat", "robot vacuum", "phone"}
	enPlaces  = []string{"Pudong", "Xuhui", "Jing'an", "Minhang", "Yangpu", "Changning"}
	enStreets = []string{"Zhangyang Road", "Caoxi North Road", "West Nanjing Road", "Tianshan Road", "Zhenbei Road"}
)

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func yuan(r *rand.Rand, lo, hi int) string {
	v := lo + r.IntN(hi-lo+1)
	if v >= 1000 {
		v = v / 10 * 10
	}
	return strconv.Itoa(v)
}

// fill replaces {placeholders} with made-up particulars.
func fill(r *rand.Rand, tmpl string) string {
	repl := []string{
		"{platform}", pick(r, platforms), "{shop}", pick(r, shops), "{item}", pick(r, items),
		"{gym}", pick(r, gyms), "{repair}", pick(r, repairs), "{district}", pick(r, districts),
		"{street}", pick(r, streets), "{eatery}", pick(r, eateries), "{market}", pick(r, markets),
		"{school}", pick(r, schools), "{enshop}", pick(r, enShops), "{enitem}", pick(r, enItems),
		"{enplace}", pick(r, enPlaces), "{enstreet}", pick(r, enStreets),
		"{n}", strconv.Itoa(2 + r.IntN(12)), "{small}", yuan(r, 39, 899), "{big}", yuan(r, 1200, 9800),
		"{no}", strconv.Itoa(10 + r.IntN(180)),
	}
	return strings.NewReplacer(repl...).Replace(tmpl)
}

// story is what a consumer says, by kind and language.
var story = map[caselog.Kind]map[string][]string{
	caselog.Complaint: {
		"zh": {
			"在{platform}“{shop}”买的{item}，收货第{n}天就坏了，商家拒绝退换，要求全额退款{small}元。",
			"在{district}的{gym}办了{big}元年卡，现在突然停业，老板联系不上，要求退还剩余费用。",
			"在{district}{street}的{repair}换手机屏幕，换完后触摸失灵，店家说是我自己摔的，不给保修。",
			"{platform}上买的{item}未拆封，申请七天无理由退货，商家以“特价商品不退不换”为由拒绝。",
			"在{district}一家美容店预付了{big}元，店铺换了老板，新老板不认旧卡，也不退钱。",
			"孩子在{school}报了课，机构突然停课，预交的{big}元课时费一直不退。",
			"{platform}订的外卖里吃出头发和塑料片，商家只愿意退一半餐费。",
			"{platform}直播间买的{item}与描述严重不符，怀疑是假货，商家不回复。",
			"家装公司合同约定两个月完工，已经拖了{n}周，要求按合同赔偿违约金。",
			"{district}{street}的{repair}修冰箱，收了{small}元维修费，用了{n}天又坏了，不肯返修。",
			"网购的{item}到货后发现是二手翻新机，包装有拆封痕迹，要求退一赔三。",
		},
		"en": {
			"I bought a {enitem} from {enshop} on Taobao. It stopped working after {n} days and they refuse a refund of {small} yuan.",
			"My gym in {enplace} closed without notice. I prepaid {big} yuan for a year and cannot reach the owner.",
			"I returned unopened shoes within seven days but the online shop says sale items cannot be returned.",
			"A phone repair shop on {enstreet} replaced my screen; it broke again in a week and they will not repair it.",
		},
	},
	caselog.Report: {
		"zh": {
			"举报{district}{street}的{eatery}后厨卫生很差，有老鼠，还使用过期食材。",
			"{market}（{district}{street}店）在卖过期酸奶，生产日期被贴了新标签。",
			"{district}一家药店不凭处方销售处方药，还卖无批号的保健品。",
			"{shop}先抬高原价再打折，虚假宣传“全网最低价”。",
			"{district}菜市场{no}号摊位电子秤缺斤短两，一斤少了二两。",
			"{platform}上有店铺销售没有3C认证的电动车充电器，存在安全隐患。",
			"小区门口的早餐店疑似使用地沟油，油烟味道很怪。",
			"{district}{street}一家加油站加油机计量不准，加满一箱比平时多了{n}升。",
			"{eatery}没有营业执照和食品经营许可证，也没有健康证。",
		},
		"en": {
			"A restaurant on {enstreet} in {enplace} serves expired food. I saw the dates on the packages.",
			"A shop on {enstreet} sells fake branded cosmetics as genuine.",
		},
	},
	caselog.Consultation: {
		"zh": {
			"网购的衣服试穿后不合适，七天无理由退货的运费由谁承担？",
			"手机买了{n}天出现故障，能不能直接换新？三包是怎么规定的？",
			"健身房预付卡还剩{n}个月，商家搬迁了，可以要求退款吗？",
			"网购的生鲜水果可以七天无理由退货吗？",
			"商家不给开发票怎么办？",
			"定金和订金有什么区别？交了定金不想买了能退吗？",
			"直播间买到假货应该找主播还是找商家？",
			"电梯广告里的“终身保修”有法律效力吗？",
			"外卖超时一个小时，可以要求赔偿吗？",
		},
		"en": {
			"Can I return shoes bought online within seven days if I have tried them on?",
			"How long does it take to handle a complaint, and will I be told the result?",
			"Is a prepaid card refundable if the shop moves to another district?",
		},
	},
	caselog.CallbackKind: {
		"zh": {
			"请工作人员回电，想咨询一下上次投诉的处理进度。",
			"我白天不方便接电话，请下午五点以后回电。",
			"关于预付卡退款的事，想当面问清楚，请回电。",
			"",
		},
		"en": {
			"Please call me back about my complaint from last week.",
			"",
		},
	},
	caselog.Enquiry: {
		"zh": {
			"你好，请问你们几点下班？",
			"是12315吗？",
			"怎么投诉外卖？",
			"我的快递到哪了",
			"谢谢你们！问题已经解决了",
			"好的",
			"请问在哪里可以查到商家的营业执照信息？",
		},
		"en": {
			"hello, is this the consumer hotline?",
			"thanks",
		},
	},
}

// smsKeyword is the first word of a text that opens a case of a kind.
var smsKeyword = map[caselog.Kind]map[string][]string{
	caselog.Complaint:    {"zh": {"投诉 ", "投诉：", "投訴 "}, "en": {"COMPLAINT ", "complaint: "}},
	caselog.Report:       {"zh": {"举报 ", "举报："}, "en": {"REPORT "}},
	caselog.Consultation: {"zh": {"咨询 ", "咨询："}, "en": {"ASK "}},
	caselog.CallbackKind: {"zh": {"回拨 ", "回拨"}, "en": {"CALLBACK "}},
	caselog.Enquiry:      {"zh": {""}, "en": {""}},
}

// departments a case is transferred to.
var departments = []string{
	"区市场监督管理局食品安全科",
	"区市场监督管理局价格监督检查科",
	"区市场监督管理局消费者权益保护科",
	"市市场监督管理局网络交易监管处",
	"区商务委员会（预付卡监管）",
	"区教育局（校外培训监管）",
	"区卫生健康委员会",
	"市场监督管理所（属地）",
}

var rejections = []struct{ reason, referral string }{
	{"不属于市场监管部门职责范围（劳动纠纷）", "请向区劳动人事争议仲裁委员会申请仲裁"},
	{"已经人民法院受理", "请等待法院判决"},
	{"无法提供商家名称和地址等必要信息，经联系未补充", ""},
	{"属于金融消费纠纷", "请向国家金融监督管理总局12378热线反映"},
	{"超过法定投诉时效", ""},
	{"同一事项已在其他部门处理", "请向原受理部门查询"},
}

var mediationEnded = []string{
	"商家拒绝调解，建议通过诉讼途径解决",
	"双方对退款金额分歧较大，未能达成一致",
	"商家已注销，无法联系",
	"消费者要求的赔偿超出法定标准，商家不同意",
}

// notes staff write, by the status a case moves to.
var notes = map[caselog.Status][]string{
	caselog.Accepted: {
		"材料齐全，符合受理条件，予以受理。",
		"经核实，消费者提供了订单截图和付款记录，予以受理。",
		"已受理，将联系商家核实情况。",
	},
	caselog.Mediating: {
		"已电话联系商家，商家同意参加调解。",
		"已约定本周五下午在所里进行三方调解。",
		"商家负责人表示愿意协商，已转入调解。",
	},
	caselog.Resolved: {
		"经调解，商家同意全额退款，消费者表示认可。",
		"商家同意更换新品并补偿50元，双方达成一致。",
		"已答复消费者，消费者表示满意。",
		"经现场检查，责令商家整改，已将处理结果告知举报人。",
		"已按三包规定为消费者办理换货。",
	},
	caselog.Transferred: {"属地管辖，转交相关部门处理。"},
	caselog.Withdrawn: {
		"消费者来电表示已与商家自行和解，申请撤回。",
		"消费者表示不再追究，撤回投诉。",
	},
	caselog.Closed: {"办结归档。", "处理完毕，结案。", "已回访，结案。"},
}

// asides are notes staff add while a case is open.
var asides = []string{
	"已电话联系消费者核实情况，消费者补充了购买凭证。",
	"致电商家未接通，明天再联系。",
	"商家表示三个工作日内给出答复。",
	"消费者情绪激动，已耐心解释处理流程。",
	"已调取平台订单信息，与消费者陈述一致。",
}

var additions = []string{
	"已上传付款截图和聊天记录",
	"商家今天又打电话来推脱，请尽快处理",
	"补充一下：商家地址在{district}{street}{no}号",
	"发票照片见附件",
}

var enNotes = map[caselog.Status][]string{
	caselog.Accepted: {"Accepted; receipts provided. Contacting the business."},
	caselog.Resolved: {"The business agreed to a full refund; the consumer accepted."},
}
