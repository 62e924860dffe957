/**
 * Seed data: Juice Shop's well-known public accounts, products and baskets (data/static/users.yml,
 * config/default.yml, data/datacreator.ts), in the order that gives admin id 1, jim 2, bender 3.
 */
export const SHOP_DOMAIN = 'juice-sh.op';

export interface SeedUser {
  email: string;
  password: string;
  role: 'customer' | 'deluxe' | 'accounting' | 'admin';
  username?: string;
  totpSecret?: string;
  deleted?: boolean;
}

const at = (name: string): string => `${name}@${SHOP_DOMAIN}`;

export const SEED_USERS: readonly SeedUser[] = [
  { email: at('admin'), password: 'admin123', role: 'admin' },
  { email: at('jim'), password: 'ncc-1701', role: 'customer' },
  { email: at('bender'), password: 'OhG0dPlease1nsertLiquor!', role: 'customer' },
  { email: 'bjoern.kimminich@gmail.com', username: 'bkimminich', password: 'bW9jLmxpYW1nQGhjaW5pbW1pay5ucmVvamI=', role: 'admin' },
  { email: at('ciso'), password: 'mDLx?94T~1CfVfZMzw@sJ9f?s3L6lbMqE70FfI8^54jbNikY5fymx7c!YbJb', role: 'deluxe' },
  { email: at('support'), password: 'J6aVjTgOpRs@?5l!Zkq2AYnCE@RF$P', role: 'admin' },
  { email: at('morty'), password: 'focusOnScienceMorty!focusOnScience', role: 'customer' },
  { email: at('mc.safesearch'), password: 'Mr. N00dles', role: 'customer' },
  { email: at('J12934'), password: '0Y8rMnww$*9VFYE§59-!Fg1L6t&6lB', role: 'admin' },
  // The one account with TOTP enabled: the right password yields 401 totp_token_required.
  { email: at('wurstbrot'), username: 'wurstbrot', password: 'EinBelegtesBrotMitSchinkenSCHINKEN!', totpSecret: 'IFTXE3SPOEYVURT2MRYGI52TKJ4HC3KH', role: 'admin' },
  { email: at('amy'), password: 'K1f.....................', role: 'customer' },
  { email: at('bjoern'), password: 'monkey summer birthday are all bad passwords but work just fine in a long passphrase', role: 'admin' },
  { email: 'bjoern@owasp.org', password: 'kitten lesser pooch karate buffoon indoors', role: 'deluxe' },
  { email: at('chris.pike'), password: 'uss enterprise', role: 'customer', deleted: true },
  { email: at('accountant'), password: 'i am an awesome accountant', role: 'accounting' },
  { email: at('uvogin'), password: 'muda-muda > ora-ora', role: 'customer' },
];

export interface SeedProduct {
  name: string;
  description: string;
  price: number;
  deluxePrice?: number;
  image: string;
  limitPerUser?: number;
  quantity: number;
  deleted?: boolean;
}

export const SEED_PRODUCTS: readonly SeedProduct[] = [
  { name: 'Apple Juice (1000ml)', description: 'The all-time classic.', price: 1.99, deluxePrice: 0.99, limitPerUser: 5, image: 'apple_juice.jpg', quantity: 100 },
  { name: 'Orange Juice (1000ml)', description: 'Made from oranges hand-picked by Uncle Dittmeyer.', price: 2.99, deluxePrice: 2.49, image: 'orange_juice.jpg', quantity: 100 },
  { name: 'Eggfruit Juice (500ml)', description: 'Now with even more exotic flavour.', price: 8.99, image: 'eggfruit_juice.jpg', quantity: 100 },
  { name: 'Raspberry Juice (1000ml)', description: 'Made from blended Raspberry Pi, water and sugar.', price: 4.99, image: 'raspberry_juice.jpg', quantity: 100 },
  { name: 'Lemon Juice (500ml)', description: 'Sour but full of vitamins.', price: 2.99, deluxePrice: 1.99, limitPerUser: 5, image: 'lemon_juice.jpg', quantity: 100 },
  { name: 'Banana Juice (1000ml)', description: 'Monkeys love it the most.', price: 1.99, image: 'banana_juice.jpg', quantity: 100 },
  { name: 'OWASP Juice Shop T-Shirt', description: 'Real fans wear it 24/7!', price: 22.49, limitPerUser: 5, image: 'fan_shirt.jpg', quantity: 100 },
  { name: 'OWASP Juice Shop CTF Girlie-Shirt', description: 'For serious Capture-the-Flag heroines only!', price: 22.49, image: 'fan_girlie.jpg', quantity: 100 },
  { name: 'OWASP SSL Advanced Forensic Tool (O-Saft)', description: 'O-Saft is an easy to use tool to show information about SSL certificate and tests the SSL connection according given list of ciphers and various SSL configurations.', price: 0.01, image: 'orange_juice.jpg', quantity: 100 },
  { name: 'Christmas Super-Surprise-Box (2014 Edition)', description: 'Contains a random selection of 10 bottles (each 500ml) of our tastiest juices and an extra fan shirt for an unbeatable price! (Seasonal special offer! Limited availability!)', price: 29.99, image: 'undefined.jpg', quantity: 1, deleted: true },
  { name: 'Best Juice Shop Salesman Artwork', description: 'Unique digital painting depicting Stan, our most qualified and almost profitable salesman.', price: 5000, image: 'artwork2.jpg', quantity: 1, limitPerUser: 1 },
];

/** Baskets 1..5 belong to users 1, 2, 3, 11 and 16, as in Juice Shop. */
export const SEED_BASKET_OWNERS: readonly number[] = [1, 2, 3, 11, 16];

/** Eight items, so the next BasketItem gets id 9 (as observed on the real shop). */
export const SEED_BASKET_ITEMS: readonly { BasketId: number; ProductId: number; quantity: number }[] = [
  { BasketId: 1, ProductId: 1, quantity: 2 },
  { BasketId: 1, ProductId: 2, quantity: 3 },
  { BasketId: 1, ProductId: 3, quantity: 1 },
  { BasketId: 2, ProductId: 4, quantity: 2 },
  { BasketId: 3, ProductId: 4, quantity: 1 },
  { BasketId: 4, ProductId: 4, quantity: 2 },
  { BasketId: 5, ProductId: 3, quantity: 5 },
  { BasketId: 5, ProductId: 4, quantity: 2 },
];
