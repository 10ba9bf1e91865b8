package sim

// Regions, cities and the kinds of stores in them.

// district is a part of a city, with one street for addresses.
type district struct {
	name, zh, street string
}

type citySpec struct {
	name, zh string
	lat, lon float64
	weight   float64 // relative number of stores and consumers
	areas    []district
}

type regionSpec struct {
	name   string
	weight float64
	cities []citySpec
}

func regionSpecs() []regionSpec {
	return []regionSpec{
		{"east", 0.28, []citySpec{
			{"Shanghai", "上海市", 31.2304, 121.4737, 3, []district{{"Xuhui", "徐汇区", "漕溪北路"}, {"Pudong", "浦东新区", "世纪大道"}, {"Jing'an", "静安区", "南京西路"}, {"Yangpu", "杨浦区", "国定路"}}},
			{"Hangzhou", "杭州市", 30.2741, 120.1551, 2, []district{{"Xihu", "西湖区", "文三路"}, {"Binjiang", "滨江区", "江南大道"}, {"Gongshu", "拱墅区", "莫干山路"}}},
			{"Suzhou", "苏州市", 31.2990, 120.5853, 1.2, []district{{"Gusu", "姑苏区", "人民路"}, {"Wuzhong", "吴中区", "东吴北路"}}},
			{"Nanjing", "南京市", 32.0603, 118.7969, 1.5, []district{{"Gulou", "鼓楼区", "中山北路"}, {"Jianye", "建邺区", "江东中路"}, {"Qixia", "栖霞区", "文苑路"}}},
		}},
		{"south", 0.24, []citySpec{
			{"Guangzhou", "广州市", 23.1291, 113.2644, 2.5, []district{{"Tianhe", "天河区", "天河路"}, {"Haizhu", "海珠区", "新港西路"}, {"Panyu", "番禺区", "大学城外环"}}},
			{"Shenzhen", "深圳市", 22.5431, 114.0579, 2.5, []district{{"Nanshan", "南山区", "科技园路"}, {"Futian", "福田区", "深南大道"}, {"Longgang", "龙岗区", "龙翔大道"}}},
			{"Xiamen", "厦门市", 24.4798, 118.0894, 1, []district{{"Siming", "思明区", "湖滨南路"}, {"Huli", "湖里区", "枋湖路"}}},
			{"Dongguan", "东莞市", 23.0207, 113.7518, 1, []district{{"Nancheng", "南城区", "鸿福路"}, {"Songshan Lake", "松山湖", "大学路"}}},
		}},
		{"north", 0.20, []citySpec{
			{"Beijing", "北京市", 39.9042, 116.4074, 3, []district{{"Chaoyang", "朝阳区", "建国路"}, {"Haidian", "海淀区", "中关村大街"}, {"Dongcheng", "东城区", "东直门内大街"}, {"Tongzhou", "通州区", "新华大街"}}},
			{"Tianjin", "天津市", 39.3434, 117.3616, 1.5, []district{{"Heping", "和平区", "南京路"}, {"Nankai", "南开区", "卫津路"}}},
			{"Jinan", "济南市", 36.6512, 117.1201, 1, []district{{"Lixia", "历下区", "泉城路"}, {"Shizhong", "市中区", "经十路"}}},
			{"Shenyang", "沈阳市", 41.8057, 123.4315, 1, []district{{"Heping", "和平区", "太原街"}, {"Hunnan", "浑南区", "智慧大街"}}},
		}},
		{"west", 0.15, []citySpec{
			{"Chengdu", "成都市", 30.5728, 104.0668, 2.5, []district{{"Jinjiang", "锦江区", "春熙路"}, {"Wuhou", "武侯区", "人民南路"}, {"High-Tech Zone", "高新区", "天府大道"}}},
			{"Chongqing", "重庆市", 29.5630, 106.5516, 2, []district{{"Yuzhong", "渝中区", "解放碑步行街"}, {"Jiangbei", "江北区", "观音桥步行街"}, {"Shapingba", "沙坪坝区", "大学城中路"}}},
			{"Xi'an", "西安市", 34.3416, 108.9398, 1.5, []district{{"Yanta", "雁塔区", "小寨东路"}, {"Beilin", "碑林区", "南大街"}}},
			{"Kunming", "昆明市", 25.0389, 102.7183, 1, []district{{"Wuhua", "五华区", "青年路"}, {"Chenggong", "呈贡区", "春融街"}}},
		}},
		{"central", 0.13, []citySpec{
			{"Wuhan", "武汉市", 30.5928, 114.3055, 2, []district{{"Wuchang", "武昌区", "中南路"}, {"Hongshan", "洪山区", "珞喻路"}, {"Jianghan", "江汉区", "江汉路"}}},
			{"Changsha", "长沙市", 28.2282, 112.9388, 1.5, []district{{"Yuelu", "岳麓区", "麓山南路"}, {"Furong", "芙蓉区", "五一大道"}}},
			{"Zhengzhou", "郑州市", 34.7466, 113.6254, 1.5, []district{{"Jinshui", "金水区", "花园路"}, {"Zhengdong", "郑东新区", "商务外环路"}}},
			{"Hefei", "合肥市", 31.8206, 117.2272, 1, []district{{"Shushan", "蜀山区", "长江西路"}, {"Baohe", "包河区", "徽州大道"}}},
		}},
	}
}

// storeKind is a kind of store with its typical audience (persona name → share) and the
// channels it sells through (online, offline, both).
type storeKind struct {
	name     string
	suffix   string // store names end with it
	weight   float64
	audience map[string]float64
	channels [3]float64 // online, offline, both
	size     float64    // relative assortment size
}

func storeKinds() []storeKind {
	return []storeKind{
		{"campus", "Campus Store", 0.15, map[string]float64{"student": 0.62, "gamer": 0.2, "fitness_enthusiast": 0.1, "young_professional_man": 0.05, "white_collar_woman": 0.03},
			[3]float64{0.5, 0, 0.5}, 0.7},
		{"cbd", "CBD Select", 0.2, map[string]float64{"white_collar_woman": 0.4, "young_professional_man": 0.3, "fitness_enthusiast": 0.15, "gamer": 0.05, "young_parent": 0.05, "student": 0.05},
			[3]float64{0.3, 0.1, 0.6}, 1},
		{"suburban_family", "Family Market", 0.25, map[string]float64{"young_parent": 0.5, "retiree": 0.15, "white_collar_woman": 0.15, "young_professional_man": 0.1, "fitness_enthusiast": 0.05, "gamer": 0.05},
			[3]float64{0.2, 0.3, 0.5}, 1.1},
		{"community", "Neighbourhood Shop", 0.15, map[string]float64{"retiree": 0.5, "young_parent": 0.25, "white_collar_woman": 0.1, "young_professional_man": 0.05, "student": 0.05, "gamer": 0.05},
			[3]float64{0, 0.6, 0.4}, 0.8},
		{"mall", "Life Store", 0.15, map[string]float64{"white_collar_woman": 0.25, "young_professional_man": 0.15, "student": 0.15, "gamer": 0.1, "fitness_enthusiast": 0.15, "young_parent": 0.15, "retiree": 0.05},
			[3]float64{0, 0.3, 0.7}, 1.2},
		{"tech", "Gamer Hub", 0.1, map[string]float64{"gamer": 0.55, "student": 0.2, "young_professional_man": 0.2, "fitness_enthusiast": 0.05},
			[3]float64{0.8, 0, 0.2}, 0.9},
	}
}

// storeBrands are the names small resellers trade under.
func storeBrands() []string {
	return []string{"Lingxi", "Youpin", "Haoli", "Xiangyang", "Mizhi", "Jiahe", "Dongfang", "Xinyue", "Baiwei", "Lehuo",
		"Kexin", "Mingmei", "Tianyi", "Huacai", "Shunfeng", "Yunjian"}
}

func surnames() []string {
	return []string{"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "林", "罗", "高"}
}

func givenNames(female bool) []string {
	if female {
		return []string{"芳", "娜", "敏", "静", "丽", "婷", "雪", "欣怡", "梓涵", "佳琪", "雨萱", "晓燕", "慧", "颖", "思琪"}
	}
	return []string{"伟", "强", "磊", "军", "洋", "勇", "杰", "浩然", "子轩", "宇航", "俊杰", "建国", "志强", "明", "涛"}
}

func phonePrefixes() []string {
	return []string{"138", "139", "136", "137", "150", "158", "186", "187", "177", "188", "135", "152"}
}

func devices() []string {
	return []string{"iPhone 15", "iPhone 14", "iPhone 13", "HUAWEI Mate 60", "HUAWEI nova 12", "Xiaomi 14", "Redmi K70",
		"OPPO Reno 11", "vivo X100", "HONOR Magic 6"}
}
