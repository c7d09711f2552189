/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/**
 * The record inspector's page: a form (the entity, one field per attribute of its key) and, once a key is given, the
 * MySQL row and the DynamoDB item side by side (differing fields highlighted), the unique markers the value should
 * have, and the item as stored: its key and index key attributes, ferry's bookkeeping attributes, the rest.
 * Everything from the stores is text in JSX (escaped), never markup.
 */
import {
  type EntityCodec,
  type EntityValue,
  encodeKey,
  type FieldDifference,
  type InspectedItem,
  type InspectedJson,
  type MarkerInspection,
  type Operator,
  type Presence,
  type RecordInspection,
} from "@ferry/runtime";
import { keyText } from "./backfill.tsx";
import { Layout } from "./layout.tsx";

/** The inspector's page for one record: what a validation report links each difference to. */
export function inspectHref(entity: string, key: EntityValue): string {
  return `/inspect?entity=${encodeURIComponent(entity)}&key=${encodeURIComponent(encodeKey(key))}`;
}

/** The same record as JSON. */
export function inspectApiHref(entity: string, key: EntityValue): string {
  return `/api${inspectHref(entity, key)}`;
}

const PRESENCE: Record<Presence, string> = {
  both: "On both stores.",
  "mysql-only": "On MySQL only: DynamoDB has no item for it.",
  "dynamodb-only": "On DynamoDB only: MySQL has no row for it.",
  neither: "On neither store: MySQL has no row and DynamoDB no item with this key.",
};

export function InspectPage(props: {
  operator: Operator;
  /** The contract's entities. */
  entities: readonly string[];
  /** The entity chosen, when it is one of the contract's (its key's fields are shown). */
  codec?: EntityCodec | undefined;
  /** What was typed, by query parameter (kept when it is refused). */
  typed: Record<string, string>;
  error?: { message: string; fields?: Record<string, string> | undefined } | undefined;
  inspection?: RecordInspection | undefined;
}) {
  const { codec, typed, error, inspection } = props;
  const fields = error?.fields ?? {};
  const chosen = codec?.name ?? typed.entity ?? props.entities[0];
  return (
    <Layout title="Record inspector" operator={props.operator}>
      <h1>Record inspector</h1>
      <p class="muted">
        One record by its key: the MySQL row and the DynamoDB item side by side, its unique markers, and the item as
        stored. Choose another entity and look up to get its key's fields.
      </p>
      <form class="card filters" method="get" action="/inspect">
        <div>
          <label for="entity">Entity</label>
          <select id="entity" name="entity">
            {props.entities.map((entity) => (
              <option value={entity} selected={entity === chosen}>
                {entity}
              </option>
            ))}
          </select>
          {fields.entity ? <div class="field-error">{fields.entity}</div> : null}
        </div>
        {(codec?.identity ?? []).map((name) => (
          <div>
            <label for={`key-${name}`}>{name}</label>
            <input type="text" id={`key-${name}`} name={name} value={typed[name] ?? ""} maxlength={1000} />
            {fields[name] ? <div class="field-error">{fields[name]}</div> : null}
          </div>
        ))}
        <div class="actions">
          <button class="primary" type="submit">
            Look up
          </button>
        </div>
        {fields.key ? <div class="field-error">{fields.key}</div> : null}
      </form>
      {error ? <div class="notice bad">{error.message}</div> : null}
      {codec && inspection ? <Inspection codec={codec} inspection={inspection} /> : null}
    </Layout>
  );
}

function Inspection(props: { codec: EntityCodec; inspection: RecordInspection }) {
  const { codec, inspection } = props;
  const differing = new Map(inspection.differences.map((difference) => [difference.field, difference]));
  const both = inspection.presence === "both";
  return (
    <>
      <section class="card" aria-label="summary">
        <h2>
          {inspection.entity} <code>{keyText(inspection.key)}</code>
        </h2>
        <div>
          {PRESENCE[inspection.presence]}
          {both ? (
            <>
              {" "}
              <span class={inspection.differences.length === 0 ? "met" : "unmet"}>
                {inspection.differences.length === 0
                  ? "The row and the item are equal."
                  : `${inspection.differences.length} field${inspection.differences.length === 1 ? " differs" : "s differ"}.`}
              </span>
            </>
          ) : null}
        </div>
        <div class="muted">
          <a href={inspectApiHref(inspection.entity, inspection.key)}>This record as JSON</a>
        </div>
      </section>
      {inspection.unreadable?.mysql ? (
        <div class="notice bad">The codec cannot read the MySQL row: {inspection.unreadable.mysql}</div>
      ) : null}
      {inspection.unreadable?.dynamodb ? (
        <div class="notice bad">The codec cannot read the DynamoDB item: {inspection.unreadable.dynamodb}</div>
      ) : null}
      {inspection.presence !== "neither" ? (
        <section class="card" aria-label="side by side">
          <h2>Side by side</h2>
          <table class="diff">
            <thead>
              <tr>
                <th>Field</th>
                <th>MySQL</th>
                <th>DynamoDB</th>
              </tr>
            </thead>
            <tbody>
              {codec.attributes.map((attribute) => (
                <tr class={differing.has(attribute.name) ? "differs" : ""}>
                  <td>{attribute.name}</td>
                  <td>
                    <Side value={inspection.mysql} codec={codec} name={attribute.name} missing="no row" />
                  </td>
                  <td>
                    <Side value={inspection.dynamodb} codec={codec} name={attribute.name} missing="no item" />
                  </td>
                </tr>
              ))}
              {codec.copies.map((copy) => (
                <tr>
                  <td>
                    {copy.name} <span class="muted">(denormalised copy, not compared)</span>
                  </td>
                  <td>
                    <em class="muted">DynamoDB only</em>
                  </td>
                  <td>
                    <Side value={inspection.dynamodb} codec={codec} name={copy.name} missing="no item" />
                  </td>
                </tr>
              ))}
              {inspection.differences
                .filter((difference) => !codec.attributes.some((attribute) => attribute.name === difference.field))
                .map((difference) => (
                  <tr class="differs">
                    <td>
                      {difference.field} <span class="muted">(key attribute: as the row renders it, as stored)</span>
                    </td>
                    <td>
                      <Normalized text={difference.mysql} />
                    </td>
                    <td>
                      <Normalized text={difference.dynamodb} />
                    </td>
                  </tr>
                ))}
            </tbody>
          </table>
        </section>
      ) : null}
      {inspection.presence !== "neither" ? <Markers markers={inspection.markers} /> : null}
      {inspection.item ? (
        <StoredItem title="The DynamoDB item as stored" item={inspection.item} differing={differing} />
      ) : null}
      {inspection.otherItem ? (
        <>
          <div class="notice warn">
            Under this record's key DynamoDB holds an item of another record (another identity or entity):
          </div>
          <StoredItem title="The item under its key" item={inspection.otherItem} differing={new Map()} />
        </>
      ) : null}
    </>
  );
}

/** One side's value of a field, as validation compares it (the codec's normalised text). */
function Side(props: { value: EntityValue | undefined; codec: EntityCodec; name: string; missing: string }) {
  if (props.value === undefined) return <em class="muted">{props.missing}</em>;
  let text: string | null;
  const attribute = props.codec.attribute(props.name);
  try {
    // A sensitive attribute's value comes as its tag already (inspectRecord); the others as decoded values.
    text = attribute.sensitive
      ? ((props.value[props.name] as string | null | undefined) ?? null)
      : attribute.normalize(props.value[props.name]);
  } catch {
    text = String(props.value[props.name]);
  }
  return <Normalized text={text} />;
}

function Normalized(props: { text: string | null }) {
  return props.text === null ? <em class="muted">absent</em> : <span>{props.text}</span>;
}

function Markers(props: { markers: readonly MarkerInspection[] }) {
  return (
    <section class="card" aria-label="markers">
      <h2>Unique markers</h2>
      {props.markers.length === 0 ? (
        <p class="muted">The entity has no unique rule.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>Rule</th>
              <th>Marker</th>
              <th>Present</th>
              <th>Names this item</th>
            </tr>
          </thead>
          <tbody>
            {props.markers.map((marker) => (
              <tr>
                <td>
                  {marker.rule} <span class="muted">({marker.attributes.join(", ")})</span>
                </td>
                {marker.byKey ? (
                  <td colspan={3} class="muted">
                    no marker: the item's own key enforces the rule
                  </td>
                ) : marker.key === null ? (
                  <td colspan={3} class="muted">
                    no marker: a value of the rule is null
                  </td>
                ) : (
                  <>
                    <td>
                      <code>{marker.key}</code>
                    </td>
                    <td class={marker.present ? "met" : "unmet"}>{marker.present ? "yes" : "no: missing"}</td>
                    <td class={marker.owned ? "met" : "unmet"}>
                      {marker.owned
                        ? "yes"
                        : marker.present
                          ? marker.owner
                            ? `no: it names ${JSON.stringify(marker.owner)}`
                            : "no: it names no item"
                          : "no"}
                    </td>
                  </>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function StoredItem(props: { title: string; item: InspectedItem; differing: ReadonlyMap<string, FieldDifference> }) {
  const { item } = props;
  return (
    <section class="card" aria-label="stored item">
      <h2>
        {props.title} <span class="muted">(table {item.table})</span>
      </h2>
      <h3>Key attributes</h3>
      <table class="diff">
        <thead>
          <tr>
            <th>Attribute</th>
            <th>Of</th>
            <th>Value</th>
          </tr>
        </thead>
        <tbody>
          {item.keys.map((key) => {
            const difference = props.differing.get(key.name);
            return (
              <tr class={difference ? "differs" : ""}>
                <td>{key.name}</td>
                <td>{key.of === "table" ? "table" : `index ${key.of}`}</td>
                <td>
                  {key.value === null ? <em class="muted">absent</em> : shown(key.value)}
                  {difference ? (
                    <div class="muted">
                      the row renders{" "}
                      {difference.mysql === null ? <em>none (not in the index)</em> : <code>{difference.mysql}</code>}
                    </div>
                  ) : null}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <h3>Bookkeeping</h3>
      <AttributeTable attributes={item.bookkeeping} />
      <h3>Attributes as stored</h3>
      <AttributeTable attributes={item.attributes} />
    </section>
  );
}

function AttributeTable(props: { attributes: Record<string, InspectedJson> }) {
  const entries = Object.entries(props.attributes);
  return (
    <table>
      <thead>
        <tr>
          <th>Attribute</th>
          <th>Value</th>
        </tr>
      </thead>
      <tbody>
        {entries.map(([name, value]) => (
          <tr>
            <td>{name}</td>
            <td>{shown(value)}</td>
          </tr>
        ))}
        {entries.length === 0 ? (
          <tr>
            <td colspan={2} class="muted">
              none
            </td>
          </tr>
        ) : null}
      </tbody>
    </table>
  );
}

/** A stored value as text: a string as it is, anything else as its JSON. */
function shown(value: InspectedJson): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}
