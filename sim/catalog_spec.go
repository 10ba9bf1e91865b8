package sim

// The catalogue's shape: leaf categories with their price levels, title vocabulary and
// search words, and the brands of each second-level category with their price tiers. The
// tables are functions, not package variables, so nothing can change them between worlds.

// Price tiers of brands; an item's "price_band" attribute names its brand's tier.
const (
	tierBudget = iota
	tierMid
	tierPremium
	tierLuxury
	numTiers
)

func tierNames() [numTiers]string { return [numTiers]string{"budget", "mid", "premium", "luxury"} }

// tierPrice multiplies a leaf's median price for each tier.
func tierPrice() [numTiers]float64 { return [numTiers]float64{0.55, 1, 1.8, 3.4} }

// attrSpec is an attribute an item of a leaf may carry, with the values it takes.
type attrSpec struct {
	name   string
	values []string
}

// leafSpec describes a leaf category. An item's title is brand + descriptor + type (+ size).
type leafSpec struct {
	key     string   // path joined by "/", root first
	share   float64  // relative number of catalogue items
	median  float64  // list price of a mid-tier item, CNY
	types   []string // product types: the end of a title
	desc    attrSpec // descriptors: the middle of a title, kept as an attribute
	size    attrSpec // sizes, appended to titles
	extra   []attrSpec
	terms   []string // what consumers type to find it
	repeat  float64  // days between repurchases for those who rebuy; 0: not a repeat category
	returns float64  // base return rate of purchases
	tags    []string // tags that fit the category
}

func leafSpecs() []leafSpec {
	return []leafSpec{
		{key: "beauty/fragrance/perfume", share: 4, median: 420, types: []string{"Eau de Parfum", "Eau de Toilette", "Parfum Extrait"},
			desc: attrSpec{"scent", []string{"Rose", "Oud", "Citrus", "White Musk", "Jasmine", "Sandalwood", "Peony", "Vetiver", "Osmanthus"}},
			size: attrSpec{"size", []string{"30ml", "50ml", "100ml"}}, terms: []string{"perfume", "fragrance", "eau de parfum"},
			returns: 0.02, tags: []string{"gift", "imported"}},
		{key: "beauty/skincare/serum", share: 3, median: 320, types: []string{"Serum", "Essence", "Ampoule"},
			desc: attrSpec{"concern", []string{"Hydrating", "Brightening", "Anti-Aging", "Repair", "Vitamin C", "Niacinamide"}},
			size: attrSpec{"size", []string{"15ml", "30ml", "50ml"}}, terms: []string{"serum", "essence", "face serum"},
			returns: 0.03, tags: []string{"imported", "sensitive-skin"}},
		{key: "beauty/skincare/moisturizer", share: 3, median: 220, types: []string{"Cream", "Gel Cream", "Lotion"},
			desc: attrSpec{"skin_type", []string{"Dry Skin", "Oily Skin", "Combination Skin", "Sensitive Skin"}},
			size: attrSpec{"size", []string{"50ml", "100ml"}}, terms: []string{"moisturizer", "face cream", "lotion"},
			returns: 0.03},
		{key: "beauty/skincare/sheet_mask", share: 2, median: 89, types: []string{"Sheet Mask 10-Pack", "Sleeping Mask", "Clay Mask"},
			desc:  attrSpec{"concern", []string{"Hydrating", "Soothing", "Brightening", "Pore Care"}},
			terms: []string{"face mask", "sheet mask"}, repeat: 18, returns: 0.01},
		{key: "beauty/makeup/lipstick", share: 3, median: 190, types: []string{"Lipstick", "Lip Tint", "Matte Lip Cream"},
			desc:  attrSpec{"color", []string{"Ruby Red", "Nude Pink", "Coral", "Brick", "Plum", "Rosewood"}},
			terms: []string{"lipstick", "lip tint"}, returns: 0.03, tags: []string{"gift"}},
		{key: "beauty/makeup/foundation", share: 2, median: 260, types: []string{"Foundation", "Cushion Compact", "BB Cream"},
			desc:  attrSpec{"shade", []string{"Ivory", "Natural", "Beige", "Porcelain"}},
			terms: []string{"foundation", "cushion", "bb cream"}, returns: 0.04},
		{key: "food/western/pasta", share: 2, median: 22, types: []string{"Spaghetti", "Penne", "Fusilli", "Pasta Sauce"},
			desc: attrSpec{"flavor", []string{"Tomato Basil", "Garlic", "Bolognese", "Carbonara", "Pesto", "Whole Wheat"}},
			size: attrSpec{"size", []string{"500g", "1kg"}}, terms: []string{"pasta", "spaghetti", "pasta sauce"},
			repeat: 12, returns: 0.005, tags: []string{"imported"}},
		{key: "food/western/cheese", share: 1.5, median: 45, types: []string{"Cheddar", "Mozzarella", "Parmesan", "Cheese Slices"},
			desc: attrSpec{"style", []string{"Aged", "Mild", "Grated", "Smoked"}}, size: attrSpec{"size", []string{"200g", "500g"}},
			terms: []string{"cheese", "mozzarella"}, repeat: 12, returns: 0.005},
		{key: "food/snacks/chips", share: 2, median: 12, types: []string{"Potato Chips", "Seaweed Crisps", "Rice Crackers"},
			desc: attrSpec{"flavor", []string{"Spicy", "Sea Salt", "BBQ", "Cucumber", "Tomato", "Mala"}},
			size: attrSpec{"size", []string{"70g", "150g"}}, terms: []string{"chips", "crisps", "snacks"},
			repeat: 9, returns: 0.003},
		{key: "food/snacks/nuts", share: 2, median: 49, types: []string{"Mixed Nuts", "Cashews", "Almonds", "Daily Nuts Pack"},
			desc: attrSpec{"flavor", []string{"Original", "Salted", "Honey Roasted", "Cream"}},
			size: attrSpec{"size", []string{"250g", "500g", "30-Pack"}}, terms: []string{"nuts", "daily nuts", "almonds"},
			repeat: 14, returns: 0.003, tags: []string{"gift"}},
		{key: "food/beverage/coffee", share: 2, median: 69, types: []string{"Coffee Beans", "Drip Bags", "Instant Coffee", "Cold Brew"},
			desc:  attrSpec{"roast", []string{"Light Roast", "Medium Roast", "Dark Roast", "Yunnan", "Ethiopia"}},
			terms: []string{"coffee", "coffee beans", "cold brew"}, repeat: 14, returns: 0.005},
		{key: "food/beverage/tea", share: 1.5, median: 59, types: []string{"Green Tea", "Oolong", "Milk Tea Powder", "Jasmine Tea"},
			desc:  attrSpec{"origin", []string{"West Lake", "Wuyi", "Anxi", "Yunnan", "Matcha"}},
			terms: []string{"tea", "oolong", "milk tea"}, repeat: 20, returns: 0.005, tags: []string{"gift"}},
		{key: "food/instant/noodles", share: 1.5, median: 16, types: []string{"Instant Noodles 5-Pack", "Cup Noodles", "Self-Heating Hotpot"},
			desc:  attrSpec{"flavor", []string{"Braised Beef", "Tomato Egg", "Spicy Seafood", "Pickled Cabbage", "Mala"}},
			terms: []string{"instant noodles", "cup noodles", "hotpot"}, repeat: 7, returns: 0.002},
		{key: "grocery/dairy/milk", share: 2, median: 59, types: []string{"Whole Milk 12x250ml", "Low-Fat Milk 12x250ml", "Fresh Milk 950ml", "A2 Milk 6-Pack"},
			desc:  attrSpec{"origin", []string{"Inner Mongolia", "New Zealand", "Pasture", "Organic"}},
			terms: []string{"milk", "fresh milk"}, repeat: 7, returns: 0.004},
		{key: "grocery/dairy/yogurt", share: 1.5, median: 35, types: []string{"Greek Yogurt", "Drinking Yogurt 6-Pack", "Yogurt Cups"},
			desc:  attrSpec{"flavor", []string{"Plain", "Strawberry", "Blueberry", "Mango", "Low Sugar"}},
			terms: []string{"yogurt", "greek yogurt"}, repeat: 7, returns: 0.004},
		{key: "grocery/household/tissue", share: 1.5, median: 39, types: []string{"Facial Tissue 10-Pack", "Toilet Roll 12-Pack", "Kitchen Towels"},
			desc:  attrSpec{"ply", []string{"3-Ply", "4-Ply", "Bamboo", "Unscented"}},
			terms: []string{"tissue", "toilet paper"}, repeat: 20, returns: 0.003},
		{key: "grocery/household/detergent", share: 1.5, median: 45, types: []string{"Laundry Liquid", "Laundry Pods", "Dish Soap"},
			desc:  attrSpec{"scent", []string{"Lavender", "Fresh Lemon", "Unscented", "Green Tea"}},
			terms: []string{"laundry detergent", "dish soap"}, repeat: 24, returns: 0.003},
		{key: "baby/care/diapers", share: 2, median: 129, types: []string{"Tape Diapers", "Pull-Up Pants", "Overnight Diapers"},
			desc: attrSpec{"feature", []string{"Ultra-Thin", "Breathable", "Organic Cotton", "Leak Guard"}},
			size: attrSpec{"size", []string{"NB", "S", "M", "L", "XL"}}, terms: []string{"diapers", "nappies", "pull-ups"},
			repeat: 9, returns: 0.01},
		{key: "baby/care/wipes", share: 1, median: 39, types: []string{"Baby Wipes 80x6", "Hand & Mouth Wipes", "Water Wipes"},
			desc:  attrSpec{"feature", []string{"Fragrance-Free", "Thick", "Biodegradable"}},
			terms: []string{"baby wipes", "wipes"}, repeat: 12, returns: 0.005},
		{key: "baby/feeding/formula", share: 1.5, median: 258, types: []string{"Infant Formula Stage 1", "Follow-On Formula Stage 2", "Toddler Formula Stage 3"},
			desc: attrSpec{"origin", []string{"Dutch", "New Zealand", "Irish", "Goat Milk", "A2"}},
			size: attrSpec{"size", []string{"800g", "400g"}}, terms: []string{"baby formula", "milk powder", "infant formula"},
			repeat: 13, returns: 0.005, tags: []string{"imported"}},
		{key: "baby/feeding/bottle", share: 1, median: 99, types: []string{"Anti-Colic Bottle", "Sippy Cup", "Bottle Sterilizer"},
			desc:  attrSpec{"material", []string{"PPSU", "Glass", "Silicone"}},
			terms: []string{"baby bottle", "sippy cup"}, returns: 0.04},
		{key: "baby/toys/blocks", share: 1, median: 149, types: []string{"Building Blocks Set", "Stacking Toy", "Magnetic Tiles"},
			desc:  attrSpec{"age", []string{"1-3 Years", "3-6 Years", "Toddler"}},
			terms: []string{"building blocks", "toys", "magnetic tiles"}, returns: 0.04, tags: []string{"gift"}},
		{key: "electronics/gaming/controller", share: 2, median: 329, types: []string{"Wireless Controller", "Pro Controller", "Mobile Gamepad"},
			desc:  attrSpec{"platform", []string{"PC", "Switch", "PS5", "Xbox", "Mobile"}},
			terms: []string{"controller", "gamepad", "game controller"}, returns: 0.05},
		{key: "electronics/gaming/headset", share: 1.5, median: 459, types: []string{"Gaming Headset", "Wireless Headset"},
			desc:  attrSpec{"feature", []string{"7.1 Surround", "Noise-Cancelling Mic", "RGB", "Low-Latency"}},
			terms: []string{"gaming headset", "headset"}, returns: 0.05},
		{key: "electronics/gaming/keyboard", share: 1.5, median: 399, types: []string{"Mechanical Keyboard", "Gaming Mouse", "Mouse Pad XL"},
			desc:  attrSpec{"switch", []string{"Red Switch", "Blue Switch", "Brown Switch", "Hot-Swap"}},
			terms: []string{"mechanical keyboard", "gaming mouse", "keyboard"}, returns: 0.05},
		{key: "electronics/phone/case", share: 2, median: 59, types: []string{"Phone Case", "Screen Protector", "MagSafe Case"},
			desc:  attrSpec{"model", []string{"iPhone 15", "iPhone 16", "Mate 60", "Xiaomi 14", "vivo X100"}},
			terms: []string{"phone case", "screen protector"}, returns: 0.04},
		{key: "electronics/phone/charger", share: 1.5, median: 119, types: []string{"GaN Charger 65W", "Power Bank 10000mAh", "USB-C Cable"},
			desc:  attrSpec{"color", []string{"White", "Black", "Blue"}},
			terms: []string{"charger", "power bank", "usb-c cable"}, returns: 0.03},
		{key: "electronics/audio/earbuds", share: 2, median: 399, types: []string{"Wireless Earbuds", "ANC Earbuds", "Sports Earbuds"},
			desc:  attrSpec{"color", []string{"Pearl White", "Midnight Black", "Sky Blue"}},
			terms: []string{"earbuds", "wireless earphones", "headphones"}, returns: 0.05},
		{key: "fashion/women/dress", share: 3, median: 299, types: []string{"Midi Dress", "Shirt Dress", "Knit Dress", "Slip Dress"},
			desc: attrSpec{"style", []string{"Minimalist", "French", "Vintage", "Office", "Casual"}},
			size: attrSpec{"size", []string{"S", "M", "L", "XL"}}, extra: []attrSpec{{"material", []string{"Silk", "Cotton", "Linen", "Knit"}}},
			terms: []string{"dress", "midi dress"}, returns: 0.12},
		{key: "fashion/women/handbag", share: 2, median: 690, types: []string{"Tote Bag", "Crossbody Bag", "Shoulder Bag"},
			desc:  attrSpec{"color", []string{"Black", "Camel", "Cream", "Burgundy"}},
			extra: []attrSpec{{"material", []string{"Leather", "Canvas", "Nylon"}}},
			terms: []string{"handbag", "tote bag", "crossbody bag"}, returns: 0.08, tags: []string{"gift"}},
		{key: "fashion/women/shoes", share: 2, median: 399, types: []string{"Loafers", "Ankle Boots", "Ballet Flats", "Platform Sneakers"},
			desc: attrSpec{"style", []string{"Minimalist", "Retro", "Office", "Street"}},
			size: attrSpec{"size", []string{"35", "36", "37", "38", "39"}}, terms: []string{"women shoes", "loafers", "boots"},
			returns: 0.12},
		{key: "fashion/men/shirt", share: 2, median: 219, types: []string{"Oxford Shirt", "Polo Shirt", "Linen Shirt"},
			desc: attrSpec{"fit", []string{"Slim Fit", "Regular Fit", "Relaxed Fit"}},
			size: attrSpec{"size", []string{"M", "L", "XL", "XXL"}}, extra: []attrSpec{{"material", []string{"Cotton", "Linen", "Oxford"}}},
			terms: []string{"shirt", "men shirt", "polo"}, returns: 0.10},
		{key: "fashion/men/jacket", share: 1.5, median: 499, types: []string{"Bomber Jacket", "Down Jacket", "Windbreaker"},
			desc: attrSpec{"style", []string{"Urban", "Outdoor", "Classic"}}, size: attrSpec{"size", []string{"M", "L", "XL", "XXL"}},
			terms: []string{"jacket", "down jacket", "windbreaker"}, returns: 0.10},
		{key: "fashion/men/sneakers", share: 1.5, median: 559, types: []string{"Court Sneakers", "Canvas Sneakers", "Retro Runners"},
			desc: attrSpec{"color", []string{"White", "Black", "Grey", "Navy"}}, size: attrSpec{"size", []string{"40", "41", "42", "43", "44"}},
			terms: []string{"sneakers", "men shoes"}, returns: 0.10},
		{key: "books/textbook/exam_prep", share: 1.5, median: 59, types: []string{"Exam Prep Guide", "Practice Papers", "Vocabulary Book"},
			desc:  attrSpec{"subject", []string{"CET-4 English", "CET-6 English", "Kaoyan Math", "Kaoyan Politics", "IELTS", "Civil Service Exam"}},
			terms: []string{"exam prep", "cet-4", "kaoyan", "ielts"}, returns: 0.02},
		{key: "books/fiction/novel", share: 1.5, median: 45, types: []string{"Novel", "Short Stories", "Sci-Fi Novel", "Mystery Novel"},
			desc:  attrSpec{"edition", []string{"Paperback", "Hardcover", "Collector's Edition"}},
			terms: []string{"novel", "books", "sci-fi"}, returns: 0.01},
		{key: "books/children/picture_book", share: 1, median: 49, types: []string{"Picture Book Set", "Bedtime Stories", "Pinyin Reader"},
			desc:  attrSpec{"age", []string{"0-3 Years", "3-6 Years", "6-8 Years"}},
			terms: []string{"picture book", "children books"}, returns: 0.01, tags: []string{"gift"}},
		{key: "home/kitchen/cookware", share: 1.5, median: 259, types: []string{"Non-Stick Pan", "Cast Iron Skillet", "Wok", "Knife Set"},
			desc:  attrSpec{"size", []string{"24cm", "28cm", "30cm"}},
			terms: []string{"pan", "wok", "cookware"}, returns: 0.04},
		{key: "home/kitchen/appliance", share: 1.5, median: 399, types: []string{"Rice Cooker", "Blender", "Electric Kettle", "Soy Milk Maker"},
			desc:  attrSpec{"feature", []string{"Smart", "Mini", "Quiet", "Stainless"}},
			terms: []string{"rice cooker", "blender", "kettle"}, returns: 0.05, tags: []string{"gift"}},
		{key: "home/living/bedding", share: 1.5, median: 329, types: []string{"Duvet", "Silk Pillowcase", "Bedding Set"},
			desc:  attrSpec{"material", []string{"Mulberry Silk", "Cotton", "Down", "Linen"}},
			terms: []string{"bedding", "duvet", "pillowcase"}, returns: 0.06},
		{key: "home/living/storage", share: 1, median: 79, types: []string{"Storage Box", "Closet Organizer", "Vacuum Bags"},
			desc:  attrSpec{"color", []string{"White", "Grey", "Clear"}},
			terms: []string{"storage box", "organizer"}, returns: 0.03},
		{key: "health/supplements/vitamins", share: 1.5, median: 159, types: []string{"Multivitamin", "Fish Oil", "Calcium + D3", "Probiotics"},
			desc:  attrSpec{"form", []string{"Softgels", "Tablets", "Gummies", "Powder"}},
			terms: []string{"vitamins", "fish oil", "probiotics", "calcium"}, repeat: 26, returns: 0.01},
		{key: "health/supplements/protein", share: 1, median: 299, types: []string{"Whey Protein 2lb", "Plant Protein", "Protein Bars 12-Pack"},
			desc:  attrSpec{"flavor", []string{"Chocolate", "Vanilla", "Matcha", "Unflavored"}},
			terms: []string{"protein powder", "whey", "protein bar"}, repeat: 18, returns: 0.01},
		{key: "health/care/monitor", share: 1, median: 299, types: []string{"Blood Pressure Monitor", "Smart Scale", "Ear Thermometer"},
			desc:  attrSpec{"feature", []string{"Voice", "Bluetooth", "Large Display"}},
			terms: []string{"blood pressure monitor", "scale", "thermometer"}, returns: 0.04, tags: []string{"gift"}},
		{key: "health/care/massage", share: 1, median: 399, types: []string{"Massage Gun", "Neck Massager", "Foot Spa"},
			desc:  attrSpec{"feature", []string{"Heated", "Cordless", "Quiet"}},
			terms: []string{"massager", "massage gun", "foot spa"}, returns: 0.05, tags: []string{"gift"}},
		{key: "sports/fitness/yoga", share: 1.5, median: 129, types: []string{"Yoga Mat", "Resistance Bands", "Foam Roller"},
			desc:  attrSpec{"material", []string{"TPE", "Natural Rubber", "NBR"}},
			terms: []string{"yoga mat", "resistance bands", "foam roller"}, returns: 0.04},
		{key: "sports/fitness/weights", share: 1, median: 199, types: []string{"Adjustable Dumbbells", "Kettlebell", "Jump Rope"},
			desc:  attrSpec{"weight", []string{"5kg", "10kg", "20kg", "Speed"}},
			terms: []string{"dumbbells", "kettlebell", "jump rope"}, returns: 0.03},
		{key: "sports/running/shoes", share: 1.5, median: 599, types: []string{"Running Shoes", "Trail Running Shoes", "Racing Flats"},
			desc: attrSpec{"cushion", []string{"Max Cushion", "Lightweight", "Stability"}},
			size: attrSpec{"size", []string{"37", "39", "41", "42", "43", "44"}}, terms: []string{"running shoes", "trail shoes"},
			returns: 0.09},
		{key: "sports/running/apparel", share: 1, median: 159, types: []string{"Running Tee", "Running Shorts", "Sports Bra"},
			desc: attrSpec{"feature", []string{"Quick-Dry", "Reflective", "Seamless"}}, size: attrSpec{"size", []string{"S", "M", "L", "XL"}},
			terms: []string{"running shirt", "sportswear", "sports bra"}, returns: 0.08},
	}
}

// brandSpec is a brand of a second-level category ("beauty/fragrance").
type brandSpec struct {
	group string
	name  string
	tier  int
}

func brandSpecs() []brandSpec {
	type nameTier struct {
		name string
		tier int
	}
	groups := []struct {
		group  string
		brands []nameTier
	}{
		{"beauty/fragrance", []nameTier{{"Maison Lumière", tierLuxury}, {"Belle Fleur", tierPremium}, {"Aroma Lab", tierMid}, {"Scent Story", tierBudget}, {"Oud Royale", tierLuxury}}},
		{"beauty/skincare", []nameTier{{"Lab Serene", tierPremium}, {"Pure Dew", tierMid}, {"Hanqing", tierBudget}, {"Aurora Derm", tierLuxury}, {"Botanica Kin", tierMid}}},
		{"beauty/makeup", []nameTier{{"Rouge Atelier", tierPremium}, {"Color Pop Girl", tierBudget}, {"Velvet Muse", tierMid}, {"Maison Lumière Beauté", tierLuxury}}},
		{"food/western", []nameTier{{"Bella Tavola", tierPremium}, {"Golden Wheat", tierBudget}, {"Casa Verde", tierMid}}},
		{"food/snacks", []nameTier{{"Crunchy Panda", tierBudget}, {"Happy Squirrel", tierMid}, {"Nutty Valley", tierPremium}, {"Spice Road", tierBudget}}},
		{"food/beverage", []nameTier{{"Highland Roast", tierPremium}, {"Morning Cup", tierMid}, {"Tea Garden", tierBudget}, {"Cloud Peak Tea", tierLuxury}}},
		{"food/instant", []nameTier{{"Noodle Master", tierBudget}, {"Ramen House", tierMid}}},
		{"grocery/dairy", []nameTier{{"Green Pasture", tierMid}, {"Prairie Gold", tierPremium}, {"Sunny Farm", tierBudget}}},
		{"grocery/household", []nameTier{{"CleanNest", tierMid}, {"Soft Cloud", tierBudget}, {"Eco Home", tierPremium}}},
		{"baby/care", []nameTier{{"Little Cloud", tierMid}, {"Baby Bliss", tierPremium}, {"Tiny Steps", tierBudget}}},
		{"baby/feeding", []nameTier{{"Mama's Choice", tierPremium}, {"Nutri Baby", tierMid}, {"Alpine Kids", tierLuxury}}},
		{"baby/toys", []nameTier{{"Block Town", tierMid}, {"Wonder Kids", tierBudget}}},
		{"electronics/gaming", []nameTier{{"Nova Gear", tierMid}, {"Titan Play", tierPremium}, {"Pixel Forge", tierBudget}, {"Apex Arc", tierLuxury}}},
		{"electronics/phone", []nameTier{{"ChargeOn", tierBudget}, {"ShieldX", tierMid}, {"Volt Pro", tierPremium}}},
		{"electronics/audio", []nameTier{{"SoundPeak", tierMid}, {"Echo Lab", tierPremium}, {"BassBox", tierBudget}}},
		{"fashion/women", []nameTier{{"Silk & Thread", tierPremium}, {"Urban Lily", tierMid}, {"Mei Studio", tierLuxury}, {"Daily Bloom", tierBudget}}},
		{"fashion/men", []nameTier{{"North Line", tierMid}, {"Gentleman's Craft", tierPremium}, {"Street Code", tierBudget}}},
		{"books/textbook", []nameTier{{"Scholar Press", tierMid}, {"Exam Ace", tierBudget}}},
		{"books/fiction", []nameTier{{"Inkwell Books", tierMid}, {"Lantern House", tierPremium}}},
		{"books/children", []nameTier{{"Little Owl Press", tierMid}}},
		{"home/kitchen", []nameTier{{"Chef's Table", tierPremium}, {"Kitchen Joy", tierBudget}, {"Iron Pan Co", tierMid}}},
		{"home/living", []nameTier{{"Cozy Nest", tierMid}, {"Linen Lane", tierPremium}, {"Box Smart", tierBudget}}},
		{"health/supplements", []nameTier{{"VitaLife", tierMid}, {"Pure Harvest", tierPremium}, {"Muscle Forge", tierMid}}},
		{"health/care", []nameTier{{"CarePlus", tierMid}, {"Harmony Health", tierPremium}}},
		{"sports/fitness", []nameTier{{"FlexFit", tierMid}, {"Iron Temple", tierPremium}, {"Move Easy", tierBudget}}},
		{"sports/running", []nameTier{{"Stride", tierPremium}, {"Pace Runner", tierMid}}},
	}
	var all []brandSpec
	for _, g := range groups {
		for _, b := range g.brands {
			all = append(all, brandSpec{g.group, b.name, b.tier})
		}
	}
	return all
}

// brandLines names the extra lines derived from a brand when there are more suppliers than
// brands: "Nova Gear Pro" belongs to another supplier than "Nova Gear".
func brandLines() []string {
	return []string{"Pro", "Lite", "Origin", "Studio", "Select", "Plus", "Nature", "Max"}
}

// industry names a root category's trade for supplier names.
func industry(root string) string {
	switch root {
	case "beauty":
		return "Cosmetics"
	case "food":
		return "Foods"
	case "grocery":
		return "Daily Goods"
	case "baby":
		return "Baby Products"
	case "electronics":
		return "Electronics"
	case "fashion":
		return "Apparel"
	case "books":
		return "Publishing"
	case "home":
		return "Home Goods"
	case "health":
		return "Health Products"
	case "sports":
		return "Sporting Goods"
	}
	return "Trading"
}

// unmetSpec is something consumers search for that the catalogue does not carry.
type unmetSpec struct {
	query    string
	category string // where it would sit in the tree
	personas []string
}

func unmetSpecs() []unmetSpec {
	return []unmetSpec{
		{"cat food", "pets/cat/food", []string{"white_collar_woman", "young_professional_man", "student"}},
		{"cat litter", "pets/cat/litter", []string{"white_collar_woman", "young_professional_man"}},
		{"dog leash", "pets/dog/accessories", []string{"young_parent", "retiree", "fitness_enthusiast"}},
		{"camping tent", "outdoor/camping/tent", []string{"fitness_enthusiast", "young_professional_man", "young_parent"}},
		{"fishing rod", "outdoor/fishing/rod", []string{"retiree", "young_professional_man"}},
		{"hanfu", "fashion/traditional/hanfu", []string{"student", "white_collar_woman"}},
		{"car phone holder", "auto/accessories/holder", []string{"young_professional_man", "young_parent"}},
		{"pickleball paddle", "sports/racket/pickleball", []string{"fitness_enthusiast", "white_collar_woman"}},
		{"air fryer", "home/kitchen/air_fryer", []string{"young_parent", "retiree", "white_collar_woman"}},
		{"graphics card", "electronics/pc/gpu", []string{"gamer", "student"}},
	}
}

// trendLeaves are the categories emerging trends are drawn from: things that catch on.
func trendLeaves() []string {
	return []string{"food/beverage/tea", "fashion/women/dress", "sports/fitness/yoga", "food/snacks/chips",
		"electronics/audio/earbuds", "beauty/skincare/sheet_mask"}
}

// reviewTexts are review bodies by rating (index rating-1).
func reviewTexts() [5][]string {
	return [5][]string{
		{"Not as described, very disappointed.", "Broke after two days.", "Would not buy again."},
		{"Quality is worse than expected.", "Not worth the price.", "Meh, returned the second one."},
		{"It's okay for the price.", "Average, does the job.", "Delivery was slow but the product is fine."},
		{"Good quality, arrived quickly.", "Pretty happy with it.", "Nice, as pictured."},
		{"Love it! Will buy again.", "Excellent, exactly what I wanted.", "Great value, recommended to friends.", "Perfect, my second order already."},
	}
}
