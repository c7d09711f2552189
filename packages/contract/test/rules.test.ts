/** One failing case per cross-reference rule, each a small change to the store's (valid) contract. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { type Contract, type Entity, validateContract } from "../src/index.ts";

const store = parse(readFileSync(new URL("./fixtures/store.yaml", import.meta.url), "utf8")) as Contract;

function entity(contract: Contract, name: string): Entity {
  const found = contract.entities[name];
  if (!found) throw new Error(`no entity ${name}`);
  return found;
}

function parentOf(contract: Contract, name: string): NonNullable<Entity["parent"]> {
  const parent = entity(contract, name).parent;
  if (!parent) throw new Error(`${name} has no parent`);
  return parent;
}

/** The problems (path: message) after changing a copy of the store's contract. */
function problemsAfter(change: (contract: Contract) => void): string[] {
  const contract = structuredClone(store);
  change(contract);
  return validateContract(contract).map((problem) => `${problem.path.join(".")}: ${problem.message}`);
}

describe("the store's contract", () => {
  it("has no problems", () => {
    expect(problemsAfter(() => {})).toEqual([]);
  });
});

describe("key templates", () => {
  it("need every placeholder to name an attribute of the entity, in keys and index keys", () => {
    expect(
      problemsAfter((c) => {
        entity(c, "User").key.partition = "USER#{userId}";
        const gsi = entity(c, "Product").indexes?.GSI2;
        if (gsi) gsi.sort = "PRODUCT#{nmae}#{id}";
      }),
    ).toEqual([
      "entities.User.key.partition: unknown attribute 'userId' of User in entities.User.key.partition",
      "entities.Product.indexes.GSI2.sort: unknown attribute 'nmae' of Product in entities.Product.indexes.GSI2.sort; did you mean 'name'?",
    ]);
  });

  it("must have balanced braces", () => {
    expect(
      problemsAfter((c) => {
        entity(c, "User").key.partition = "USER#{id";
        entity(c, "Order").key.sort = "ORDER}";
      }),
    ).toEqual([
      "entities.User.key.partition: unclosed '{' in key template 'USER#{id' (entities.User.key.partition)",
      "entities.Order.key.sort: unmatched '}' in key template 'ORDER}' (entities.Order.key.sort)",
    ]);
  });

  it("cannot hold json, set, binary or geometry values, nor (in the primary key) nullable ones", () => {
    expect(
      problemsAfter((c) => {
        const product = entity(c, "Product");
        product.attributes.tags = { type: "set", column: { name: "tags", sqlType: "set('a','b')", nullable: false } };
        product.key.sort = "PRODUCT#{tags}";
        product.key.partition = "PRODUCT#{imageUrl}";
      }),
    ).toEqual([
      "entities.Product.key.partition: attribute 'imageUrl' can be null and cannot be part of the primary key (entities.Product.key.partition)",
      "entities.Product.key.sort: attribute 'tags' (set) cannot be part of a key (entities.Product.key.sort)",
      // and getProduct (GetItem) now needs them as parameters
      "accessPatterns.getProduct.parameters: GetItem getProduct needs parameters 'imageUrl', 'tags' for the key 'PRODUCT#{imageUrl}' / 'PRODUCT#{tags}'",
      // and checkout's stock update names a Product by id alone
      "transactions.checkout.steps.2.key: the key of Product is id, imageUrl, tags; missing imageUrl, tags",
    ]);
    // In an index key, a nullable attribute is fine: items without it stay out of the index (Category.parentId).
    expect(entity(store, "Category").attributes.parentId?.column.nullable).toBe(true);
  });
});

describe("references", () => {
  it("entity.table must be a table", () => {
    expect(
      problemsAfter((c) => {
        entity(c, "User").table = "stroe";
      }),
    ).toEqual(["entities.User.table: unknown table 'stroe' in entities.User.table; did you mean 'store'?"]);
  });

  it("entity.indexes must be indexes of the entity's table", () => {
    expect(
      problemsAfter((c) => {
        const user = entity(c, "User");
        user.indexes = { GSI3: { partition: "EMAIL#{email}", sort: "USER" } };
      }),
    ).toEqual([
      "entities.User.indexes.GSI3: unknown index 'GSI3' of table 'store' in entities.User.indexes; did you mean 'GSI1'?",
      "accessPatterns.getUserByEmail.dynamodb.index: User has no key templates for index 'GSI1' (accessPatterns.getUserByEmail.dynamodb.index)",
    ]);
  });

  it("accessPatterns.*.entity must be an entity", () => {
    expect(
      problemsAfter((c) => {
        const pattern = c.accessPatterns?.getUserById;
        if (pattern) pattern.entity = "Users";
      }),
    ).toEqual([
      "accessPatterns.getUserById.entity: unknown entity 'Users' in accessPatterns.getUserById.entity; did you mean 'User'?",
    ]);
  });

  it("accessPatterns.*.dynamodb.index must be an index of the table, with templates on the entity", () => {
    expect(
      problemsAfter((c) => {
        const byEmail = c.accessPatterns?.getUserByEmail;
        if (byEmail) byEmail.dynamodb.index = "GSI7";
        const cart = c.accessPatterns?.getCart;
        if (cart) cart.dynamodb.index = "GSI2";
      }),
    ).toEqual([
      "accessPatterns.getUserByEmail.dynamodb.index: unknown index 'GSI7' of table 'store' in accessPatterns.getUserByEmail.dynamodb.index; did you mean 'GSI1'?",
      "accessPatterns.getCart.dynamodb.index: CartItem has no key templates for index 'GSI2' (accessPatterns.getCart.dynamodb.index)",
    ]);
  });

  it("parent.entity must be another entity; parent.attributes map this entity's attributes to the parent's", () => {
    expect(
      problemsAfter((c) => {
        parentOf(c, "CartItem").entity = "Usr";
      }),
    ).toEqual([
      "entities.CartItem.parent.entity: unknown entity 'Usr' in entities.CartItem.parent.entity; did you mean 'User'?",
    ]);
    expect(
      problemsAfter((c) => {
        parentOf(c, "CartItem").entity = "CartItem";
      }),
    ).toEqual(["entities.CartItem.parent.entity: CartItem cannot be its own parent"]);
    expect(
      problemsAfter((c) => {
        const parent = entity(c, "CartItem").parent;
        if (parent) parent.attributes = { user: "uid" };
      }),
    ).toEqual([
      "entities.CartItem.parent.attributes.user: unknown attribute 'user' of CartItem in entities.CartItem.parent.attributes.user",
      "entities.CartItem.parent.attributes.user: unknown attribute 'uid' of User in entities.CartItem.parent.attributes.user; did you mean 'id'?",
    ]);
  });

  it("a child's partition key is its parent's, on the parent's table", () => {
    expect(
      problemsAfter((c) => {
        entity(c, "CartItem").key.partition = "CART#{userId}";
      }),
    ).toEqual([
      "entities.CartItem.key.partition: CartItem is in User's item collection, so its partition key must be User's: 'USER#{userId}'",
    ]);
    expect(
      problemsAfter((c) => {
        const parent = entity(c, "CartItem").parent;
        if (parent) parent.attributes = { productId: "username" };
      }),
    ).toEqual([
      "entities.CartItem.parent.attributes: entities.CartItem.parent.attributes maps nothing to User.id, which User's partition key uses",
    ]);
    expect(
      problemsAfter((c) => {
        c.tables.carts = { partitionKey: "PK", sortKey: "SK" };
        entity(c, "CartItem").table = "carts";
      }),
    ).toEqual([
      "entities.CartItem.parent.entity: parent User lives on table 'store', not 'carts' (entities.CartItem.parent)",
    ]);
  });

  it("denormalized copies name an entity, its attribute, and this entity's attribute that refers to it", () => {
    expect(
      problemsAfter((c) => {
        entity(c, "CartItem").denormalized = {
          a: { from: "Produkt", attribute: "name", via: "productId" },
          b: { from: "Product", attribute: "title", via: "productId" },
          c: { from: "Product", attribute: "name", via: "product" },
        };
      }),
    ).toEqual([
      "entities.CartItem.denormalized.a.from: unknown entity 'Produkt' in entities.CartItem.denormalized.a.from; did you mean 'Product'?",
      "entities.CartItem.denormalized.b.attribute: unknown attribute 'title' of Product in entities.CartItem.denormalized.b.attribute",
      "entities.CartItem.denormalized.c.via: unknown attribute 'product' of CartItem in entities.CartItem.denormalized.c.via; did you mean 'productId'?",
    ]);
  });

  it("unique attributes and the id attribute are attributes of the entity", () => {
    expect(
      problemsAfter((c) => {
        const user = entity(c, "User");
        user.unique = { email: { attributes: ["email", "mail"] } };
        user.id = { strategy: "auto-increment", attribute: "userId" };
      }),
    ).toEqual([
      "entities.User.unique.email.attributes.1: unknown attribute 'mail' of User in entities.User.unique.email.attributes[1]; did you mean 'email'?",
      "entities.User.id.attribute: unknown attribute 'userId' of User in entities.User.id.attribute",
    ]);
  });

  it("a sensitive attribute is in no key, unique rule, word index or copy, where its value would show", () => {
    const attribute = (e: Entity, name: string) => e.attributes[name] as NonNullable<Entity["attributes"][string]>;
    expect(
      problemsAfter((c) => {
        const user = entity(c, "User");
        // passwordHash is in none of them: allowed.
        for (const name of ["id", "email", "username", "passwordHash"]) attribute(user, name).sensitive = true;
        const product = entity(c, "Product");
        attribute(product, "price").sensitive = true;
        attribute(product, "description").sensitive = true;
        attribute(product, "description").column.collation = "utf8mb4_unicode_ci";
        product.wordIndexes = { words: { attribute: "description" } };
        attribute(entity(c, "CartItem"), "productId").sensitive = true;
      }),
    ).toEqual([
      "entities.User.attributes.id.sensitive: sensitive attribute 'id' of User is in the primary key, where its value would show",
      "entities.User.attributes.username.sensitive: sensitive attribute 'username' of User is in unique rule username, where its value would show",
      "entities.User.attributes.email.sensitive: sensitive attribute 'email' of User is in index GSI1's key, where its value would show",
      "entities.Product.attributes.description.sensitive: sensitive attribute 'description' of Product is in word index words, where its value would show",
      "entities.Product.attributes.price.sensitive: sensitive attribute 'price' of Product is in CartItem's copy productPrice, where its value would show",
      "entities.CartItem.attributes.productId.sensitive: sensitive attribute 'productId' of CartItem is in the item's key, where its value would show",
    ]);
  });

  it("transactions name entities", () => {
    expect(problemsAfter((c) => void (c.transactions?.checkout?.entities.push("Cart") ?? 0))).toEqual([
      "transactions.checkout.entities.4: unknown entity 'Cart' in transactions.checkout.entities[4]",
    ]);
  });
});

describe("transaction steps", () => {
  const checkout = (c: Contract) => {
    const found = c.transactions?.checkout;
    if (!found?.steps || !found.input) throw new Error("no checkout steps");
    return { transaction: found, steps: found.steps, input: found.input };
  };

  it("name inputs, entities, attributes and whole keys that exist", () => {
    expect(
      problemsAfter((c) => {
        const { transaction, steps, input } = checkout(c);
        input.coupon = { entity: "Coupon", kind: "key" };
        steps[0] = { create: "Order", from: "ordr" };
        steps[2] = {
          update: "Product",
          forEach: "lines",
          key: { id: "{productId}", sku: "x" },
          add: { name: "-{quantity}" },
        };
        steps.push({ check: "User", key: { id: "{order.userId}" }, condition: ["isSeller = true"] });
        transaction.entities = transaction.entities.filter((name) => name !== "CartItem");
      }),
    ).toEqual([
      "transactions.checkout.input.coupon.entity: unknown entity 'Coupon' in transactions.checkout.input.coupon.entity",
      "transactions.checkout.steps.0.from: 'ordr' is not an input of transaction 'checkout'",
      "transactions.checkout.steps.2.key: the key of Product is id; not key attributes: sku",
      "transactions.checkout.steps.2.key.sku: unknown attribute 'sku' of Product in transactions.checkout.steps[2].key.sku",
      "transactions.checkout.steps.2.add.name: Product.name is string: only numeric attributes can be added to",
      "transactions.checkout.steps.3.delete: step 4 writes CartItem, which transaction 'checkout' does not list in entities",
      "transactions.checkout.steps.4.check: step 5 writes User, which transaction 'checkout' does not list in entities",
      "transactions.checkout.input.coupon: input 'coupon' of transaction 'checkout' is used by no step",
    ]);
  });

  it("say one thing, go over lists, and use a created value only after its step", () => {
    expect(
      problemsAfter((c) => {
        const { steps } = checkout(c);
        steps.reverse();
        steps.push({ update: "Product", delete: "Product", key: { id: 1 } } as never);
        steps.push({ delete: "CartItem", forEach: "order" });
        steps.push({ update: "Product", key: { id: "{productId}" }, set: { name: "-{name}" } });
      }),
    ).toEqual([
      "transactions.checkout.steps.2.set.orderId: {order.id} is known only after step 4 creates 'order'",
      "transactions.checkout.steps.4: step 5 of transaction 'checkout' says update and delete: one step does one thing",
      "transactions.checkout.steps.5.forEach: forEach needs a list input, and 'order' is a single value",
      "transactions.checkout.steps.5: step 6 needs the key of the CartItem it deletes",
      "transactions.checkout.steps.6.key.id: {productId} names a field of the forEach element, and step 7 has no forEach",
      "transactions.checkout.steps.6.set.name: only an `add` amount can be negated",
      "transactions.checkout.steps.6.set.name: {name} names a field of the forEach element, and step 7 has no forEach",
    ]);
  });

  it("write conditions as attribute, operator, value", () => {
    expect(
      problemsAfter((c) => {
        const step = checkout(c).steps[2];
        if (step)
          step.condition = [
            "inventoryQuantity => {quantity}",
            "price = {lines.price}",
            "stock > {quantity}",
            "inventoryQuantity > {quantity",
          ];
      }),
    ).toEqual([
      "transactions.checkout.steps.2.condition.0: '> {quantity}' in condition 'inventoryQuantity => {quantity}' is not a value",
      "transactions.checkout.steps.2.condition.1: 'lines' is a list: go over it with forEach and write {price}",
      "transactions.checkout.steps.2.condition.2: unknown attribute 'stock' of Product in transactions.checkout.steps[2].condition[2]",
      "transactions.checkout.steps.2.condition.3: '{quantity' is neither a reference nor a plain value",
    ]);
  });
});

describe("dynamodb.reason", () => {
  it("is required for unsupported patterns and forbidden for the others", () => {
    expect(
      problemsAfter((c) => {
        const search = c.accessPatterns?.searchProductsByName;
        if (search) delete search.dynamodb.reason;
        const get = c.accessPatterns?.getProduct;
        if (get) get.dynamodb.reason = "because";
      }),
    ).toEqual([
      "accessPatterns.getProduct.dynamodb.reason: 'reason' is only for unsupported patterns, not GetItem",
      "accessPatterns.searchProductsByName.dynamodb: missing property 'reason' in accessPatterns.searchProductsByName.dynamodb",
    ]);
  });

  it("an update or delete may find its key through an index first", () => {
    expect(
      problemsAfter((c) => {
        const get = c.accessPatterns?.getProduct;
        if (get) get.dynamodb = { operation: "UpdateItem", index: "GSI1" };
      }),
    ).toEqual([]);
  });

  it("index applies to Query and keyed writes, order only to Query", () => {
    expect(
      problemsAfter((c) => {
        const get = c.accessPatterns?.getProduct;
        if (get) get.dynamodb = { operation: "GetItem", index: "GSI1", order: "desc" };
      }),
    ).toEqual([
      "accessPatterns.getProduct.dynamodb.index: 'index' only applies to Query, UpdateItem and DeleteItem, not GetItem",
      "accessPatterns.getProduct.dynamodb.order: 'order' only applies to Query, not GetItem",
    ]);
  });
});

describe("a listing's filters", () => {
  it("take attributes with a column that both stores order alike, on a Query listing, not named like a parameter", () => {
    expect(
      problemsAfter((c) => {
        const list = c.accessPatterns?.listProductsByCategory;
        if (list) {
          list.filters = {
            minPrice: { attribute: "price", op: ">=" },
            inStock: { attribute: "inventoryQuantity", op: ">", value: 0 },
          };
        }
      }),
    ).toEqual([]);
    expect(
      problemsAfter((c) => {
        const list = c.accessPatterns?.listProductsByCategory;
        if (list) {
          list.filters = {
            categoryId: { attribute: "categoryId", op: "=" },
            named: { attribute: "name", op: ">" },
            nothing: { attribute: "nope", op: "<" },
          };
        }
      }),
    ).toEqual([
      "accessPatterns.listProductsByCategory.filters.categoryId: filter 'categoryId' has the name of a parameter of listProductsByCategory",
      "accessPatterns.listProductsByCategory.filters.named.attribute: a string attribute cannot be filtered on (accessPatterns.listProductsByCategory.filters.named.attribute)",
      expect.stringMatching(
        /^accessPatterns\.listProductsByCategory\.filters\.nothing\.attribute: unknown attribute 'nope' of Product/,
      ),
    ]);
    expect(
      problemsAfter((c) => {
        const get = c.accessPatterns?.getProduct;
        if (get) get.filters = { minPrice: { attribute: "price", op: ">=" } };
      }),
    ).toEqual([
      "accessPatterns.getProduct.filters: filters only apply to a Query that returns many (accessPatterns.getProduct.filters)",
    ]);
  });
});

describe("word indexes and searches", () => {
  const withIndex = (c: Contract) => {
    const product = entity(c, "Product");
    const name = product.attributes.name;
    if (name) name.column.collation = "utf8mb4_unicode_ci";
    product.wordIndexes = { name: { attribute: "name" } };
  };

  it("index a _ci string attribute of an entity with a one-column integer key; a search names one, by its attribute", () => {
    expect(
      problemsAfter((c) => {
        withIndex(c);
        const search = c.accessPatterns?.searchProductsByName;
        if (search) search.dynamodb = { operation: "Query", wordIndex: "name" };
      }),
    ).toEqual([]);
    expect(
      problemsAfter((c) => {
        withIndex(c);
        const product = entity(c, "Product");
        product.wordIndexes = { price: { attribute: "price" }, name: { attribute: "description" } };
        const search = c.accessPatterns?.searchProductsByName;
        if (search) search.dynamodb = { operation: "Query", wordIndex: "title" };
      }),
    ).toEqual([
      "entities.Product.wordIndexes.price.attribute: a word index needs a string attribute, and Product.price is decimal",
      "entities.Product.wordIndexes.name.attribute: a word index needs a case-insensitive (_ci) column, and Product.description is not",
      expect.stringMatching(
        /^accessPatterns\.searchProductsByName\.dynamodb\.wordIndex: Product has no word index 'title'/,
      ),
    ]);
  });

  it("a transaction cannot set a word-indexed attribute; at most 2 word indexes per entity", () => {
    expect(
      problemsAfter((c) => {
        withIndex(c);
        const step = c.transactions?.checkout?.steps?.[2];
        if (step) step.set = { name: "renamed" };
      }),
    ).toEqual([
      "transactions.checkout.steps.2.set.name: Product.name has a word index and cannot change in a transaction",
    ]);
    expect(
      problemsAfter((c) => {
        withIndex(c);
        const product = entity(c, "Product");
        product.wordIndexes = { a: { attribute: "name" }, b: { attribute: "name" }, c: { attribute: "name" } };
      }),
    ).toEqual(["entities.Product.wordIndexes: Product has 3 word indexes; at most 2 fit in one transaction"]);
  });
});

describe("key shapes", () => {
  it("an entity has a sort template exactly when its table has a sort key", () => {
    expect(problemsAfter((c) => void delete entity(c, "User").key.sort)).toEqual([
      "entities.User.key: missing sort template in entities.User.key: table 'store' has a sort key (SK)",
    ]);
    expect(problemsAfter((c) => void delete c.tables.store?.sortKey)).toEqual(
      ["User", "Category", "Product", "CartItem", "Order", "OrderItem"].map(
        (name) =>
          `entities.${name}.key.sort: table 'store' has no sort key, so entities.${name}.key cannot have a sort template`,
      ),
    );
  });

  it("index templates have the index's key shape", () => {
    expect(
      problemsAfter((c) => {
        const gsi = entity(c, "Product").indexes?.GSI1;
        if (gsi) delete gsi.sort;
        const index = c.tables.store?.indexes?.GSI2;
        if (index) delete index.sortKey;
      }),
    ).toEqual([
      "entities.Product.indexes.GSI1: missing sort template in entities.Product.indexes.GSI1: index 'GSI1' has a sort key (GSI1SK)",
      "entities.Product.indexes.GSI2.sort: index 'GSI2' has no sort key, so entities.Product.indexes.GSI2 cannot have a sort template",
      "entities.Order.indexes.GSI2.sort: index 'GSI2' has no sort key, so entities.Order.indexes.GSI2 cannot have a sort template",
    ]);
  });
});

describe("access-pattern parameters", () => {
  it("name attributes of the entity, with the attribute's type", () => {
    expect(
      problemsAfter((c) => {
        const get = c.accessPatterns?.getUserById;
        if (get) get.parameters = { id: "integer", emial: "string" };
      }),
    ).toEqual([
      "accessPatterns.getUserById.parameters.id: parameter 'id' is integer but User.id is bigint",
      "accessPatterns.getUserById.parameters.emial: unknown attribute 'emial' of User in accessPatterns.getUserById.parameters.emial; did you mean 'email'?",
    ]);
  });

  it("cover the placeholders of the partition key (Query) and of the sort key too (GetItem)", () => {
    expect(
      problemsAfter((c) => {
        const byCategory = c.accessPatterns?.listProductsByCategory;
        if (byCategory) delete byCategory.parameters;
        const remove = c.accessPatterns?.getCart;
        if (remove) remove.parameters = {};
        c.accessPatterns = {
          ...c.accessPatterns,
          getCartLine: {
            entity: "CartItem",
            parameters: { userId: "bigint" },
            dynamodb: { operation: "GetItem" },
          },
        };
      }),
    ).toEqual([
      "accessPatterns.listProductsByCategory: Query listProductsByCategory needs parameter 'categoryId' for the key 'CATEGORY#{categoryId}'",
      "accessPatterns.getCart.parameters: Query getCart needs parameter 'userId' for the key 'USER#{userId}'",
      "accessPatterns.getCartLine.parameters: GetItem getCartLine needs parameter 'productId' for the key 'USER#{userId}' / 'CART#{productId}'",
    ]);
  });
});

describe("attribute types", () => {
  it("must fit their column", () => {
    expect(
      problemsAfter((c) => {
        const product = entity(c, "Product");
        const price = product.attributes.price;
        if (price) price.type = "float";
        const isSeller = entity(c, "User").attributes.isSeller;
        if (isSeller) isSeller.type = "integer"; // fine: tinyint(1) is boolean or integer
        const created = product.attributes.createdAt;
        if (created) created.type = "date";
      }),
    ).toEqual([
      "entities.Product.attributes.price.type: type 'float' does not fit column 'price' (decimal(10,2)) in entities.Product.attributes.price",
      "entities.Product.attributes.createdAt.type: type 'date' does not fit column 'created_at' (datetime(3)) in entities.Product.attributes.createdAt",
    ]);
  });

  it("need a column type ferry knows", () => {
    expect(
      problemsAfter((c) => {
        const description = entity(c, "Product").attributes.description;
        if (description) description.column.sqlType = "vector(3)";
        const name = entity(c, "Product").attributes.name;
        if (name) name.column.sqlType = "varchar(200";
      }),
    ).toEqual([
      "entities.Product.attributes.name.column.sqlType: unreadable SQL type 'varchar(200' of column 'name' in entities.Product.attributes.name",
      "entities.Product.attributes.description.column.sqlType: unknown SQL type 'vector(3)' of column 'description' in entities.Product.attributes.description",
    ]);
  });
});

describe("primary keys on one table", () => {
  const withCategoryKey = (partition: string, sort: string) =>
    problemsAfter((c) => {
      entity(c, "Category").key = { partition, sort };
    });

  it("must not collide between two entities: the later one is reported, naming the earlier", () => {
    expect(withCategoryKey("USER#{id}", "PROFILE")).toEqual([
      "entities.Category.key: Category's key 'USER#{id}' / 'PROFILE' can produce the same primary key as User's 'USER#{id}' / 'PROFILE' on table 'store'",
    ]);
    // A bare placeholder can be anything, so every later entity can meet it.
    expect(withCategoryKey("{id}", "{name}")).toEqual([
      "entities.Category.key: Category's key '{id}' / '{name}' can produce the same primary key as User's 'USER#{id}' / 'PROFILE' on table 'store'",
      ...["Product", "CartItem", "Order", "OrderItem"].map((name) =>
        expect.stringMatching(
          new RegExp(
            `^entities\\.${name}\\.key: ${name}'s key .* as Category's '\\{id\\}' / '\\{name\\}' on table 'store'$`,
          ),
        ),
      ),
    ]);
  });

  it("may share a partition when the sort keys cannot meet, and a sort key when the partitions cannot", () => {
    expect(withCategoryKey("USER#{id}", "CATEGORY")).toEqual([]);
    expect(withCategoryKey("CATEGORY#{id}", "PROFILE")).toEqual([]);
    expect(withCategoryKey("{id}", "CATEGORY")).toEqual([]);
  });

  it("suggests a distinct prefix that does tell them apart", () => {
    const contract = structuredClone(store);
    entity(contract, "Category").key = { partition: "USER#{id}", sort: "PROFILE" };
    expect(validateContract(contract)[0]?.hint).toBe(
      "give one of them a distinct literal prefix, e.g. 'CATEGORY' for Category's sort key",
    );
    entity(contract, "Category").key = { partition: "{id}", sort: "PROFILE" };
    expect(validateContract(contract)[0]?.hint).toBe(
      "give one of them a distinct literal prefix, e.g. 'CATEGORY#{id}' for Category's partition key",
    );
  });
});
