/**
 * The store's fixed content: the category tree (shared by the demo and synthetic data sets), the
 * demo catalogue, and the word lists synthetic rows are made from. Data only, no logic.
 */

export interface CategorySeed {
  id: number;
  parentId: number | null;
  name: string;
}

const TREE: ReadonlyArray<readonly [string, readonly [string, string, string, string]]> = [
  ["Electronics", ["Phones", "Laptops", "Audio", "Cameras"]],
  ["Home & Kitchen", ["Cookware", "Furniture", "Bedding", "Lighting"]],
  ["Books", ["Fiction", "Science & Nature", "Cookbooks", "Children's Books"]],
  ["Sports & Outdoors", ["Camping", "Cycling", "Fitness", "Running"]],
  ["Clothing & Shoes", ["Men's Clothing", "Women's Clothing", "Shoes", "Accessories"]],
];

/** 25 categories: ids 1-5 are the top level, 6-25 their children (four each, in order). */
export const CATEGORIES: readonly CategorySeed[] = [
  ...TREE.map(([name], i) => ({ id: i + 1, parentId: null, name })),
  ...TREE.flatMap(([, children], i) =>
    children.map((name, j) => ({ id: TREE.length + 1 + i * children.length + j, parentId: i + 1, name })),
  ),
];

/** The ids of the categories products go in (the second level). */
export const LEAF_CATEGORY_IDS: readonly number[] = CATEGORIES.filter((c) => c.parentId !== null).map((c) => c.id);

export interface DemoProduct {
  /** A leaf category id. */
  category: number;
  name: string;
  description: string;
  /** Exact decimal, two places. */
  price: string;
  stock: number;
  /** Index into DEMO_SELLERS. */
  seller: 0 | 1;
}

/** Three products per leaf category, in category order. */
export const DEMO_PRODUCTS: readonly DemoProduct[] = [
  // Phones
  {
    category: 6,
    seller: 0,
    price: "699.00",
    stock: 42,
    name: "Aurora X2 Smartphone, 128 GB",
    description: "6.1-inch OLED display, dual camera with night mode and a battery that lasts a full day.",
  },
  {
    category: 6,
    seller: 0,
    price: "249.99",
    stock: 75,
    name: "Pebble Mini Phone, 64 GB",
    description: "A compact phone that fits any pocket, with a 5.4-inch screen and fast charging.",
  },
  {
    category: 6,
    seller: 1,
    price: "19.95",
    stock: 310,
    name: "Clear Shockproof Phone Case",
    description: "Slim, clear case with reinforced corners. Wireless-charging friendly.",
  },
  // Laptops
  {
    category: 7,
    seller: 0,
    price: "1299.00",
    stock: 18,
    name: "Northwind 14 Pro Laptop",
    description: "14-inch laptop with 16 GB RAM, 512 GB SSD and an aluminium body weighing 1.3 kg.",
  },
  {
    category: 7,
    seller: 0,
    price: "549.00",
    stock: 33,
    name: "Studyline 15 Notebook",
    description: "A dependable 15.6-inch notebook for school and home office, 8 GB RAM, 256 GB SSD.",
  },
  {
    category: 7,
    seller: 1,
    price: "39.90",
    stock: 140,
    name: "Ventilated Laptop Stand",
    description: "Foldable aluminium stand that raises your screen to eye level and keeps it cool.",
  },
  // Audio
  {
    category: 8,
    seller: 0,
    price: "179.00",
    stock: 64,
    name: "Quietwave Noise-Cancelling Headphones",
    description: "Over-ear headphones with adaptive noise cancelling and 30 hours of playback.",
  },
  {
    category: 8,
    seller: 1,
    price: "59.99",
    stock: 120,
    name: "Driftwood Bluetooth Speaker",
    description: "Water-resistant speaker with warm, room-filling sound and a 12-hour battery.",
  },
  {
    category: 8,
    seller: 0,
    price: "89.00",
    stock: 95,
    name: "Earlite True Wireless Earbuds",
    description: "Light earbuds with a pocketable charging case and clear calls in noisy streets.",
  },
  // Cameras
  {
    category: 9,
    seller: 0,
    price: "849.00",
    stock: 12,
    name: "Lumen M50 Mirrorless Camera Kit",
    description: "24 MP mirrorless camera with a 15-45 mm lens, 4K video and a flip screen.",
  },
  {
    category: 9,
    seller: 1,
    price: "129.00",
    stock: 40,
    name: "Trailcam Action Camera",
    description: "Rugged action camera, waterproof to 10 m, with image stabilisation.",
  },
  {
    category: 9,
    seller: 1,
    price: "24.50",
    stock: 200,
    name: "Travel Tripod, 130 cm",
    description: "Lightweight tripod with a ball head and a phone adapter.",
  },
  // Cookware
  {
    category: 10,
    seller: 1,
    price: "44.95",
    stock: 85,
    name: "Cast Iron Skillet, 26 cm",
    description: "Pre-seasoned cast iron pan for searing, baking and campfires.",
  },
  {
    category: 10,
    seller: 1,
    price: "129.00",
    stock: 27,
    name: "Stainless Steel Cookware Set, 8 pieces",
    description: "Tri-ply pots and pans that work on every hob, induction included.",
  },
  {
    category: 10,
    seller: 0,
    price: "32.00",
    stock: 150,
    name: "Non-Stick Frying Pan, 28 cm",
    description: "PFOA-free coating, stay-cool handle, dishwasher safe.",
  },
  // Furniture
  {
    category: 11,
    seller: 1,
    price: "219.00",
    stock: 9,
    name: "Oak Bookshelf, 5 shelves",
    description: "Solid oak bookshelf, 180 cm tall, easy to assemble.",
  },
  {
    category: 11,
    seller: 1,
    price: "149.00",
    stock: 14,
    name: "Ergonomic Office Chair",
    description: "Breathable mesh back, adjustable lumbar support and armrests.",
  },
  {
    category: 11,
    seller: 0,
    price: "89.99",
    stock: 22,
    name: "Round Side Table",
    description: "Small walnut-finish table for books, plants and morning coffee.",
  },
  // Bedding
  {
    category: 12,
    seller: 1,
    price: "79.00",
    stock: 60,
    name: "Linen Duvet Cover Set, Double",
    description: "Stonewashed linen duvet cover with two pillowcases. Soft from the first night.",
  },
  {
    category: 12,
    seller: 1,
    price: "49.00",
    stock: 90,
    name: "Memory Foam Pillow",
    description: "Contoured pillow that supports neck and shoulders, with a washable cover.",
  },
  {
    category: 12,
    seller: 0,
    price: "35.50",
    stock: 110,
    name: "Cotton Waffle Blanket",
    description: "Light, breathable blanket for every season, 150 x 200 cm.",
  },
  // Lighting
  {
    category: 13,
    seller: 0,
    price: "59.00",
    stock: 48,
    name: "Arc Floor Lamp",
    description: "Curved floor lamp with a linen shade and a foot switch.",
  },
  {
    category: 13,
    seller: 1,
    price: "27.99",
    stock: 130,
    name: "Dimmable LED Desk Lamp",
    description: "Five brightness levels, three colour temperatures and a USB charging port.",
  },
  {
    category: 13,
    seller: 1,
    price: "18.00",
    stock: 240,
    name: "Warm White String Lights, 10 m",
    description: "Battery-powered fairy lights with a timer, for indoors and out.",
  },
  // Fiction
  {
    category: 14,
    seller: 1,
    price: "14.99",
    stock: 70,
    name: "The Lighthouse Keeper's Daughter",
    description: "A novel of storms, secrets and a family that keeps the light burning.",
  },
  {
    category: 14,
    seller: 1,
    price: "12.50",
    stock: 55,
    name: "Midnight in the Spice Market",
    description: "A detective story set among the night markets of an old port city.",
  },
  {
    category: 14,
    seller: 0,
    price: "16.00",
    stock: 38,
    name: "The Long Road North",
    description: "Two strangers, one car, and three thousand kilometres of winter road.",
  },
  // Science & Nature
  {
    category: 15,
    seller: 1,
    price: "22.00",
    stock: 44,
    name: "A Short History of the Atom",
    description: "From Democritus to the quark: how we learned what everything is made of.",
  },
  {
    category: 15,
    seller: 1,
    price: "28.50",
    stock: 29,
    name: "Birds of the Coast: A Field Guide",
    description: "Illustrated guide to 300 shore and sea birds, with maps and calls.",
  },
  {
    category: 15,
    seller: 0,
    price: "19.99",
    stock: 51,
    name: "The Hidden Life of Soil",
    description: "What lives beneath our feet, and why the whole food chain depends on it.",
  },
  // Cookbooks
  {
    category: 16,
    seller: 1,
    price: "29.95",
    stock: 36,
    name: "Everyday Bread",
    description: "Sixty recipes for loaves, flatbreads and buns, from first starter to crust.",
  },
  {
    category: 16,
    seller: 1,
    price: "24.00",
    stock: 41,
    name: "One Pot, Forty Dinners",
    description: "Weeknight meals that need one pot and under an hour.",
  },
  {
    category: 16,
    seller: 0,
    price: "32.00",
    stock: 19,
    name: "The Vegetable Table",
    description: "Seasonal vegetarian cooking with ingredients from the market.",
  },
  // Children's Books
  {
    category: 17,
    seller: 1,
    price: "9.99",
    stock: 120,
    name: "Otto the Otter Learns to Swim",
    description: "A picture book about courage, friends and cold water. Ages 3-6.",
  },
  {
    category: 17,
    seller: 1,
    price: "11.50",
    stock: 88,
    name: "The Moon Who Couldn't Sleep",
    description: "A bedtime story with glow-in-the-dark pages. Ages 2-5.",
  },
  {
    category: 17,
    seller: 0,
    price: "13.00",
    stock: 64,
    name: "Maps of Everywhere",
    description: "An atlas for curious children, with fold-out maps and 500 facts. Ages 7-11.",
  },
  // Camping
  {
    category: 18,
    seller: 0,
    price: "189.00",
    stock: 21,
    name: "Ridgeline 2-Person Tent",
    description: "Three-season backpacking tent, 1.9 kg, pitches in five minutes.",
  },
  {
    category: 18,
    seller: 0,
    price: "99.00",
    stock: 37,
    name: "Down Sleeping Bag, -5 °C",
    description: "Warm, packable sleeping bag with a water-repellent shell.",
  },
  {
    category: 18,
    seller: 1,
    price: "34.95",
    stock: 80,
    name: "Collapsible Camping Stove",
    description: "Compact gas stove with a piezo igniter and a carry case.",
  },
  // Cycling
  {
    category: 19,
    seller: 0,
    price: "74.00",
    stock: 45,
    name: "Commuter Bike Helmet",
    description: "Ventilated helmet with a rear LED light and a magnetic buckle.",
  },
  {
    category: 19,
    seller: 0,
    price: "29.99",
    stock: 100,
    name: "Rechargeable Bike Light Set",
    description: "Front and rear lights, USB-C charging, visible from 300 m.",
  },
  {
    category: 19,
    seller: 1,
    price: "22.00",
    stock: 75,
    name: "Folding Bike Lock",
    description: "Hardened steel folding lock with a frame mount.",
  },
  // Fitness
  {
    category: 20,
    seller: 0,
    price: "39.00",
    stock: 66,
    name: "Non-Slip Yoga Mat, 6 mm",
    description: "Cushioned mat with a textured grip and a carry strap.",
  },
  {
    category: 20,
    seller: 0,
    price: "119.00",
    stock: 17,
    name: "Adjustable Dumbbells, 2 x 20 kg",
    description: "Change the weight with a turn of the dial, from 2 to 20 kg per hand.",
  },
  {
    category: 20,
    seller: 1,
    price: "15.99",
    stock: 160,
    name: "Resistance Band Set",
    description: "Five bands from light to extra heavy, with door anchor and handles.",
  },
  // Running
  {
    category: 21,
    seller: 0,
    price: "129.00",
    stock: 52,
    name: "Tempo Road Running Shoes",
    description: "Responsive cushioning for daily miles and race day alike.",
  },
  {
    category: 21,
    seller: 1,
    price: "24.00",
    stock: 90,
    name: "Reflective Running Vest",
    description: "Lightweight hi-vis vest with a zip pocket for your keys.",
  },
  {
    category: 21,
    seller: 0,
    price: "199.00",
    stock: 23,
    name: "Pacer GPS Running Watch",
    description: "GPS watch with heart-rate tracking, interval training and a week of battery.",
  },
  // Men's Clothing
  {
    category: 22,
    seller: 1,
    price: "49.00",
    stock: 70,
    name: "Men's Merino Crew Jumper",
    description: "Fine merino wool jumper that keeps warm without the bulk.",
  },
  {
    category: 22,
    seller: 1,
    price: "59.95",
    stock: 58,
    name: "Men's Slim Chinos",
    description: "Stretch cotton chinos in navy, with a tapered leg.",
  },
  {
    category: 22,
    seller: 0,
    price: "19.99",
    stock: 200,
    name: "Men's Organic Cotton T-Shirt",
    description: "Heavyweight organic cotton tee in white.",
  },
  // Women's Clothing
  {
    category: 23,
    seller: 1,
    price: "69.00",
    stock: 46,
    name: "Women's Wrap Dress",
    description: "Floral viscose wrap dress with three-quarter sleeves.",
  },
  {
    category: 23,
    seller: 1,
    price: "89.00",
    stock: 31,
    name: "Women's Rain Jacket",
    description: "Waterproof, breathable jacket with a packable hood.",
  },
  {
    category: 23,
    seller: 0,
    price: "39.50",
    stock: 95,
    name: "Women's High-Rise Jeans",
    description: "Straight-leg jeans in mid-blue denim with a little stretch.",
  },
  // Shoes
  {
    category: 24,
    seller: 1,
    price: "95.00",
    stock: 34,
    name: "Leather Chelsea Boots",
    description: "Classic ankle boots in brown leather with elastic side panels.",
  },
  {
    category: 24,
    seller: 1,
    price: "64.00",
    stock: 72,
    name: "Canvas Low-Top Sneakers",
    description: "Everyday sneakers with a vulcanised rubber sole.",
  },
  {
    category: 24,
    seller: 0,
    price: "29.00",
    stock: 120,
    name: "Wool Slippers",
    description: "Felted wool slippers with a cushioned sole. Cosy, not sweaty.",
  },
  // Accessories
  {
    category: 25,
    seller: 1,
    price: "45.00",
    stock: 65,
    name: "Leather Card Wallet",
    description: "Slim wallet for six cards, in vegetable-tanned leather.",
  },
  {
    category: 25,
    seller: 1,
    price: "25.00",
    stock: 140,
    name: "Knitted Beanie",
    description: "Ribbed beanie in a soft wool blend. One size.",
  },
  {
    category: 25,
    seller: 0,
    price: "79.00",
    stock: 28,
    name: "Canvas Weekender Bag",
    description: "Waxed canvas holdall with leather handles, big enough for three days away.",
  },
];

export interface DemoUser {
  username: string;
  email: string;
  firstName: string;
  lastName: string | null;
  isSeller: boolean;
}

/** The demo shopper's user name: sign in as `shopper` with DEMO_PASSWORD. */
export const DEMO_SHOPPER = "shopper";

export const DEMO_SHOPPER_USER: DemoUser = {
  username: DEMO_SHOPPER,
  email: "shopper@example.com",
  firstName: "Sam",
  lastName: "Shopper",
  isSeller: false,
};

/** The two demo sellers; a shop has no last name (the column is nullable for this). */
export const DEMO_SELLERS: readonly [DemoUser, DemoUser] = [
  {
    username: "harbor_goods",
    email: "hello@harbor-goods.example.com",
    firstName: "Harbor Goods",
    lastName: null,
    isSeller: true,
  },
  { username: "maple_lane", email: "shop@maple-lane.example.com", firstName: "Mia", lastName: "Lane", isSeller: true },
];

export interface DemoOrder {
  status: "pending" | "paid" | "shipped" | "delivered" | "cancelled";
  /** Days before the data set's reference date. */
  daysAgo: number;
  /** [index into DEMO_PRODUCTS, quantity] */
  items: ReadonlyArray<readonly [number, number]>;
}

/** The shopper's past orders, oldest first. */
export const DEMO_ORDERS: readonly DemoOrder[] = [
  {
    status: "delivered",
    daysAgo: 120,
    items: [
      [24, 1],
      [27, 1],
      [33, 2],
    ],
  },
  {
    status: "delivered",
    daysAgo: 75,
    items: [
      [12, 1],
      [19, 2],
    ],
  },
  { status: "cancelled", daysAgo: 40, items: [[3, 1]] },
  {
    status: "shipped",
    daysAgo: 6,
    items: [
      [45, 1],
      [46, 1],
    ],
  },
  {
    status: "paid",
    daysAgo: 1,
    items: [
      [6, 1],
      [8, 1],
      [50, 3],
      [56, 1],
    ],
  },
];

/** The shopper's cart: [index into DEMO_PRODUCTS, quantity]. */
export const DEMO_CART: ReadonlyArray<readonly [number, number]> = [
  [36, 1],
  [42, 2],
];

// ---- word lists for synthetic rows ------------------------------------------------------------

/** [display, ASCII slug for user names] */
export const FIRST_NAMES: ReadonlyArray<readonly [string, string]> = [
  ["Emma", "emma"],
  ["Liam", "liam"],
  ["Olivia", "olivia"],
  ["Noah", "noah"],
  ["Ava", "ava"],
  ["Lucas", "lucas"],
  ["Mia", "mia"],
  ["Mateo", "mateo"],
  ["Sofia", "sofia"],
  ["Elias", "elias"],
  ["Amara", "amara"],
  ["Kenji", "kenji"],
  ["Priya", "priya"],
  ["Omar", "omar"],
  ["Hannah", "hannah"],
  ["Jonas", "jonas"],
  ["Chloé", "chloe"],
  ["José", "jose"],
  ["Zoë", "zoe"],
  ["Søren", "soren"],
  ["Aisha", "aisha"],
  ["Wei", "wei"],
  ["Freya", "freya"],
  ["Diego", "diego"],
  ["Leila", "leila"],
  ["Tomás", "tomas"],
  ["Ingrid", "ingrid"],
  ["Kwame", "kwame"],
  ["Yuki", "yuki"],
  ["Nadia", "nadia"],
  ["Oscar", "oscar"],
  ["Ines", "ines"],
  ["Ravi", "ravi"],
  ["Elena", "elena"],
  ["Björn", "bjorn"],
  ["Fatima", "fatima"],
  ["Hugo", "hugo"],
  ["Maya", "maya"],
  ["Nikolai", "nikolai"],
  ["Grace", "grace"],
];

export const LAST_NAMES: ReadonlyArray<readonly [string, string]> = [
  ["Smith", "smith"],
  ["García", "garcia"],
  ["Müller", "muller"],
  ["Rossi", "rossi"],
  ["Nguyen", "nguyen"],
  ["Kim", "kim"],
  ["Okafor", "okafor"],
  ["Johansson", "johansson"],
  ["Silva", "silva"],
  ["Kowalski", "kowalski"],
  ["Dubois", "dubois"],
  ["Tanaka", "tanaka"],
  ["Patel", "patel"],
  ["O'Brien", "obrien"],
  ["Novak", "novak"],
  ["Haddad", "haddad"],
  ["Jensen", "jensen"],
  ["Moreau", "moreau"],
  ["Chen", "chen"],
  ["Fischer", "fischer"],
  ["Ali", "ali"],
  ["Costa", "costa"],
  ["Horvat", "horvat"],
  ["Lindqvist", "lindqvist"],
  ["Mensah", "mensah"],
  ["Popescu", "popescu"],
  ["Sato", "sato"],
  ["Walker", "walker"],
  ["Yılmaz", "yilmaz"],
  ["Zhang", "zhang"],
];

export const BRANDS: readonly string[] = [
  "Northwind",
  "Harbor",
  "Lumen",
  "Cedar & Co",
  "Alpine",
  "Brightline",
  "Kestrel",
  "Marlow",
  "Oakridge",
  "Pioneer",
  "Quill",
  "Redfern",
  "Solace",
  "Tidewater",
  "Umbra",
  "Vela",
  "Wildgrove",
  "Zephyr",
  "Copperleaf",
  "Fjord",
];

export const ADJECTIVES: readonly string[] = [
  "Classic",
  "Compact",
  "Deluxe",
  "Essential",
  "Lightweight",
  "Premium",
  "Rugged",
  "Slim",
  "Smart",
  "Sturdy",
  "Eco",
  "Travel",
  "Pro",
  "Everyday",
  "Heritage",
  "Modern",
  "Vintage",
  "Ultra",
  "Soft",
  "Wireless",
];

/** Nouns per leaf category id (6-25). */
export const NOUNS: Readonly<Record<number, readonly string[]>> = {
  6: ["Smartphone", "Phone Case", "Screen Protector", "Charger", "Power Bank"],
  7: ["Laptop", "Notebook", "Laptop Sleeve", "Docking Station", "Keyboard"],
  8: ["Headphones", "Earbuds", "Speaker", "Turntable", "Soundbar"],
  9: ["Camera", "Lens", "Tripod", "Camera Bag", "Memory Card"],
  10: ["Frying Pan", "Saucepan", "Dutch Oven", "Knife Set", "Baking Tray"],
  11: ["Bookshelf", "Office Chair", "Side Table", "Sofa", "Desk"],
  12: ["Duvet", "Pillow", "Blanket", "Sheet Set", "Mattress Topper"],
  13: ["Floor Lamp", "Desk Lamp", "Pendant Light", "String Lights", "Night Light"],
  14: ["Novel", "Short Stories", "Thriller", "Poetry Collection", "Saga"],
  15: ["Field Guide", "Atlas", "Science History", "Nature Journal", "Star Guide"],
  16: ["Baking Book", "Weeknight Cookbook", "Vegetarian Cookbook", "Grill Guide", "Pasta Book"],
  17: ["Picture Book", "Bedtime Stories", "Activity Book", "First Atlas", "Comic"],
  18: ["Tent", "Sleeping Bag", "Camping Stove", "Headlamp", "Backpack"],
  19: ["Bike Helmet", "Bike Light", "Bike Lock", "Cycling Gloves", "Pannier"],
  20: ["Yoga Mat", "Dumbbell Set", "Kettlebell", "Resistance Bands", "Jump Rope"],
  21: ["Running Shoes", "Running Vest", "GPS Watch", "Running Socks", "Water Bottle"],
  22: ["Jumper", "Chinos", "T-Shirt", "Shirt", "Jacket"],
  23: ["Dress", "Rain Jacket", "Jeans", "Blouse", "Cardigan"],
  24: ["Boots", "Sneakers", "Slippers", "Sandals", "Loafers"],
  25: ["Wallet", "Beanie", "Weekender Bag", "Scarf", "Belt"],
};

export const FEATURES: readonly string[] = [
  "Built to last and easy to care for.",
  "Designed with input from people who use it every day.",
  "Backed by a two-year warranty.",
  "Made from recycled and responsibly sourced materials.",
  "A customer favourite, restocked every season.",
  "Light enough to take anywhere.",
  "Thoughtful details you notice after a week of use.",
  "Ships in plastic-free packaging.",
];
