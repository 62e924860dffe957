import fs from 'node:fs';
import Database from 'better-sqlite3';
import { md5 } from './security';
import { SEED_BASKET_ITEMS, SEED_BASKET_OWNERS, SEED_PRODUCTS, SEED_USERS } from './seed';
import { SequelizeDatabaseError, SequelizeUniqueConstraintError, SqliteDriverError, isSqliteError } from './errors';

/** Sequelize's SQLite timestamp format: `2026-11-27 19:37:04.123 +00:00`. */
export function sequelizeTimestamp(date = new Date()): string {
  return date.toISOString().replace('T', ' ').replace('Z', ' +00:00');
}

/** A model instance serialises its DATE columns as ISO strings; raw queries return the stored text. */
export function isoFromSequelize(value: string | null): string | null {
  return value === null ? null : new Date(value.replace(' +00:00', 'Z').replace(' ', 'T')).toISOString();
}

export interface UserRow {
  id: number;
  username: string;
  email: string;
  password: string;
  role: string;
  deluxeToken: string;
  lastLoginIp: string;
  profileImage: string;
  totpSecret: string;
  isActive: number;
  createdAt: string;
  updatedAt: string;
  deletedAt: string | null;
}

/** The user as a Sequelize instance serialises it (what goes into the JWT and change-password's reply). */
export interface UserJson extends Omit<UserRow, 'isActive' | 'createdAt' | 'updatedAt' | 'deletedAt'> {
  isActive: boolean;
  createdAt: string | null;
  updatedAt: string | null;
  deletedAt: string | null;
}

export interface BasketRow {
  id: number;
  coupon: string | null;
  UserId: number | null;
  createdAt: string;
  updatedAt: string;
}

export interface ProductRow {
  id: number;
  name: string;
  description: string;
  price: number;
  deluxePrice: number;
  image: string;
  createdAt: string;
  updatedAt: string;
  deletedAt: string | null;
}

export interface BasketItemRow {
  ProductId: number;
  BasketId: number;
  id: number;
  quantity: number;
  createdAt: string;
  updatedAt: string;
}

export interface QuantityRow {
  id: number;
  ProductId: number;
  quantity: number;
  limitPerUser: number | null;
}

export interface OrderRecord {
  orderId: string;
  email: string;
  totalPrice: number;
  bonus: number;
  promotionalAmount: string;
  products: string;
}

const SCHEMA = `
CREATE TABLE Users (
  id INTEGER PRIMARY KEY AUTOINCREMENT, username VARCHAR(255) DEFAULT '', email VARCHAR(255) UNIQUE,
  password VARCHAR(255), role VARCHAR(255) DEFAULT 'customer', deluxeToken VARCHAR(255) DEFAULT '',
  lastLoginIp VARCHAR(255) DEFAULT '0.0.0.0', profileImage VARCHAR(255) DEFAULT '/assets/public/images/uploads/default.svg',
  totpSecret VARCHAR(255) DEFAULT '', isActive TINYINT(1) DEFAULT 1,
  createdAt DATETIME NOT NULL, updatedAt DATETIME NOT NULL, deletedAt DATETIME);
CREATE TABLE Products (
  id INTEGER PRIMARY KEY AUTOINCREMENT, name VARCHAR(255), description VARCHAR(255), price DECIMAL,
  deluxePrice DECIMAL, image VARCHAR(255), createdAt DATETIME NOT NULL, updatedAt DATETIME NOT NULL, deletedAt DATETIME);
CREATE TABLE Quantities (
  id INTEGER PRIMARY KEY AUTOINCREMENT, ProductId INTEGER REFERENCES Products (id), quantity INTEGER,
  limitPerUser INTEGER DEFAULT NULL, createdAt DATETIME NOT NULL, updatedAt DATETIME NOT NULL);
CREATE TABLE Baskets (
  id INTEGER PRIMARY KEY AUTOINCREMENT, coupon VARCHAR(255), createdAt DATETIME NOT NULL, updatedAt DATETIME NOT NULL,
  UserId INTEGER REFERENCES Users (id));
CREATE TABLE BasketItems (
  ProductId INTEGER REFERENCES Products (id), BasketId INTEGER REFERENCES Baskets (id),
  id INTEGER PRIMARY KEY AUTOINCREMENT, quantity INTEGER, createdAt DATETIME NOT NULL, updatedAt DATETIME NOT NULL,
  UNIQUE (ProductId, BasketId));
CREATE TABLE Orders (
  id INTEGER PRIMARY KEY AUTOINCREMENT, orderId VARCHAR(255), email VARCHAR(255), totalPrice DECIMAL, bonus INTEGER,
  promotionalAmount VARCHAR(255), products TEXT, createdAt DATETIME NOT NULL);
CREATE TABLE Reviews (
  id INTEGER PRIMARY KEY AUTOINCREMENT, product VARCHAR(255), message TEXT NOT NULL, author VARCHAR(255),
  createdAt DATETIME NOT NULL);
`;

function toUserJson(row: UserRow): UserJson {
  return {
    ...row,
    isActive: row.isActive === 1,
    createdAt: isoFromSequelize(row.createdAt),
    updatedAt: isoFromSequelize(row.updatedAt),
    deletedAt: isoFromSequelize(row.deletedAt),
  };
}

/** Turns better-sqlite3's errors into what Sequelize over node-sqlite3 would have thrown. */
function asSequelizeError(error: unknown, sql: string): unknown {
  if (!isSqliteError(error)) return error;
  return new SequelizeDatabaseError(new SqliteDriverError(error.message, error.code, sql));
}

/** Juice Shop's tables in real SQLite, with the few queries the practice routes need. */
export class ShopDatabase {
  private readonly db: Database.Database;

  constructor(file?: string) {
    if (file !== undefined) fs.rmSync(file, { force: true });
    this.db = new Database(file ?? ':memory:');
  }

  /** Juice Shop: `sequelize.sync({ force: true })` then datacreator. */
  seed(): void {
    const now = sequelizeTimestamp();
    this.db.exec(SCHEMA);
    const insertUser = this.db.prepare(
      `INSERT INTO Users (username, email, password, role, profileImage, totpSecret, createdAt, updatedAt, deletedAt)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    const insertProduct = this.db.prepare(
      `INSERT INTO Products (name, description, price, deluxePrice, image, createdAt, updatedAt, deletedAt)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
    const insertQuantity = this.db.prepare(
      'INSERT INTO Quantities (ProductId, quantity, limitPerUser, createdAt, updatedAt) VALUES (?, ?, ?, ?, ?)');
    const insertBasket = this.db.prepare('INSERT INTO Baskets (coupon, createdAt, updatedAt, UserId) VALUES (NULL, ?, ?, ?)');
    const insertItem = this.db.prepare(
      'INSERT INTO BasketItems (ProductId, BasketId, quantity, createdAt, updatedAt) VALUES (?, ?, ?, ?, ?)');
    this.db.transaction(() => {
      for (const user of SEED_USERS) {
        const profileImage = user.role === 'admin'
          ? '/assets/public/images/uploads/defaultAdmin.png'
          : '/assets/public/images/uploads/default.svg';
        insertUser.run(user.username ?? '', user.email, md5(user.password), user.role, profileImage,
          user.totpSecret ?? '', now, now, user.deleted === true ? now : null);
      }
      SEED_PRODUCTS.forEach((product, index) => {
        insertProduct.run(product.name, product.description, product.price, product.deluxePrice ?? product.price,
          product.image, now, now, product.deleted === true ? now : null);
        insertQuantity.run(index + 1, product.quantity, product.limitPerUser ?? null, now, now);
      });
      for (const owner of SEED_BASKET_OWNERS) insertBasket.run(now, now, owner);
      for (const item of SEED_BASKET_ITEMS) insertItem.run(item.ProductId, item.BasketId, item.quantity, now, now);
    })();
  }

  /** A query built by the caller (string concatenation, as the vulnerable routes do); first row or undefined. */
  rawFirst(sql: string): Record<string, unknown> | undefined {
    try {
      return this.db.prepare(sql).get() as Record<string, unknown> | undefined;
    } catch (error) {
      throw asSequelizeError(error, sql);
    }
  }

  rawAll(sql: string): Record<string, unknown>[] {
    try {
      return this.db.prepare(sql).all() as Record<string, unknown>[];
    } catch (error) {
      throw asSequelizeError(error, sql);
    }
  }

  userJsonFromRow(row: Record<string, unknown>): UserJson {
    return toUserJson(row as unknown as UserRow);
  }

  findUserById(id: number): UserJson | undefined {
    const row = this.db.prepare('SELECT * FROM Users WHERE id = ? AND deletedAt IS NULL').get(id) as UserRow | undefined;
    return row === undefined ? undefined : toUserJson(row);
  }

  updatePassword(id: number, clearText: string): UserJson | undefined {
    this.db.prepare('UPDATE Users SET password = ?, updatedAt = ? WHERE id = ?').run(md5(clearText), sequelizeTimestamp(), id);
    return this.findUserById(id);
  }

  /** Juice Shop's findOrCreate on login. */
  basketIdForUser(userId: number): number {
    const found = this.db.prepare('SELECT id FROM Baskets WHERE UserId = ? ORDER BY id LIMIT 1').get(userId) as { id: number } | undefined;
    if (found !== undefined) return found.id;
    const now = sequelizeTimestamp();
    return Number(this.db.prepare('INSERT INTO Baskets (coupon, createdAt, updatedAt, UserId) VALUES (NULL, ?, ?, ?)')
      .run(now, now, userId).lastInsertRowid);
  }

  findBasket(id: string | number): BasketRow | undefined {
    return this.db.prepare('SELECT * FROM Baskets WHERE id = ?').get(id) as BasketRow | undefined;
  }

  /** Products of a basket with their BasketItem, deleted products included (paranoid: false). */
  basketProducts(basketId: number): { product: ProductRow; item: BasketItemRow }[] {
    const items = this.db.prepare('SELECT * FROM BasketItems WHERE BasketId = ? ORDER BY id').all(basketId) as BasketItemRow[];
    const productById = this.db.prepare('SELECT * FROM Products WHERE id = ?');
    return items.flatMap((item) => {
      const product = productById.get(item.ProductId) as ProductRow | undefined;
      return product === undefined ? [] : [{ product, item }];
    });
  }

  setCoupon(basketId: number, coupon: string | null): void {
    this.db.prepare('UPDATE Baskets SET coupon = ?, updatedAt = ? WHERE id = ?').run(coupon, sequelizeTimestamp(), basketId);
  }

  clearBasket(basketId: number): void {
    this.db.prepare('DELETE FROM BasketItems WHERE BasketId = ?').run(basketId);
  }

  findQuantity(productId: unknown): QuantityRow | undefined {
    if (productId === undefined) throw new Error('WHERE parameter "ProductId" has invalid "undefined" value');
    return this.db.prepare('SELECT * FROM Quantities WHERE ProductId = ?').get(bindable(productId)) as QuantityRow | undefined;
  }

  /** Inserts as Sequelize's build().save() would: values as given, timestamps added; returns the saved row. */
  insertBasketItem(values: { ProductId: unknown; BasketId: unknown; quantity: unknown }): Record<string, unknown> {
    const now = sequelizeTimestamp();
    const sql = 'INSERT INTO `BasketItems` (`ProductId`,`BasketId`,`id`,`quantity`,`createdAt`,`updatedAt`) VALUES ($1,$2,NULL,$3,$4,$5);';
    try {
      const result = this.db.prepare('INSERT INTO BasketItems (ProductId, BasketId, quantity, createdAt, updatedAt) VALUES (?, ?, ?, ?, ?)')
        .run(bindable(values.ProductId), bindable(values.BasketId), bindable(values.quantity), now, now);
      return {
        id: Number(result.lastInsertRowid), ProductId: values.ProductId, BasketId: values.BasketId,
        quantity: values.quantity, updatedAt: isoFromSequelize(now), createdAt: isoFromSequelize(now),
      };
    } catch (error) {
      if (isSqliteError(error) && error.code === 'SQLITE_CONSTRAINT_UNIQUE') {
        throw new SequelizeUniqueConstraintError(new SqliteDriverError(error.message, error.code, sql),
          { ProductId: values.ProductId, BasketId: values.BasketId });
      }
      throw asSequelizeError(error, sql);
    }
  }

  findBasketItem(id: string | number): BasketItemRow | undefined {
    return this.db.prepare('SELECT * FROM BasketItems WHERE id = ?').get(id) as BasketItemRow | undefined;
  }

  /** finale's update: every model attribute present in the body is set (BasketId included). */
  updateBasketItem(id: number, changes: Partial<Record<'ProductId' | 'BasketId' | 'quantity', unknown>>): BasketItemRow | undefined {
    const now = sequelizeTimestamp();
    const columns = (['ProductId', 'BasketId', 'quantity'] as const).filter((column) => changes[column] !== undefined);
    const sql = `UPDATE BasketItems SET ${columns.map((column) => `${column} = ?`).concat('updatedAt = ?').join(', ')} WHERE id = ?`;
    try {
      this.db.prepare(sql).run(...columns.map((column) => bindable(changes[column])), now, id);
    } catch (error) {
      throw asSequelizeError(error, sql);
    }
    return this.findBasketItem(id);
  }

  insertOrder(order: OrderRecord): void {
    this.db.prepare('INSERT INTO Orders (orderId, email, totalPrice, bonus, promotionalAmount, products, createdAt) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(order.orderId, order.email, order.totalPrice, order.bonus, order.promotionalAmount, order.products, sequelizeTimestamp());
  }

  orders(): OrderRecord[] {
    return this.db.prepare('SELECT orderId, email, totalPrice, bonus, promotionalAmount, products FROM Orders ORDER BY id').all() as OrderRecord[];
  }

  insertReview(product: string, message: unknown, author: unknown): void {
    this.db.prepare('INSERT INTO Reviews (product, message, author, createdAt) VALUES (?, ?, ?, ?)')
      .run(product, bindable(message), bindable(author), sequelizeTimestamp());
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/** SQLite binds numbers, strings, bigints, buffers and null; JSON gives booleans and objects too. */
function bindable(value: unknown): string | number | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'number' || typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  return JSON.stringify(value);
}
