// Generates src/api/openapi.json, the OpenAPI 3.1 document of crmd's HTTP API (served at
// GET /api/v1/openapi.json, embedded in the binary at build time). The document is generated
// from this script: do not edit the JSON by hand. Edit this script, regenerate from the repo
// root with
//   node tools/openapi/gen.mjs src/api/openapi.json
// and commit both. The OpenApiRoutesTest CTest fails when the document's paths and the
// routes of src/api differ; tests/openapi/validate.mjs checks the document is valid OpenAPI.
import { writeFileSync } from "node:fs";

if (process.argv.length !== 3) {
  console.error("usage: node tools/openapi/gen.mjs <output.json>");
  process.exit(2);
}

const ref = (name) => ({ $ref: `#/components/schemas/${name}` });
const param = (name) => ({ $ref: `#/components/parameters/${name}` });
const hdr = (name) => ({ $ref: `#/components/headers/${name}` });

const str = (extra = {}) => ({ type: "string", ...extra });
const nstr = (extra = {}) => ({ type: ["string", "null"], ...extra });
const int = (extra = {}) => ({ type: "integer", ...extra });
const nint = (extra = {}) => ({ type: ["integer", "null"], ...extra });
const bool = (extra = {}) => ({ type: "boolean", ...extra });
const arr = (items, extra = {}) => ({ type: "array", items, ...extra });
const obj = (properties, required = [], extra = {}) => ({
  type: "object",
  ...(required.length ? { required } : {}),
  properties,
  ...extra,
});
const time = (d) => str({ format: "date-time", ...(d ? { description: d } : {}) });
const ntime = (d) => nstr({ format: "date-time", ...(d ? { description: d } : {}) });
const date = (d) => str({ format: "date", ...(d ? { description: d } : {}) });
const id = (prefix, d) =>
  str({ pattern: `^${prefix}_`, ...(d ? { description: d } : {}) });
const nid = (prefix, d) =>
  nstr({ pattern: `^${prefix}_`, ...(d ? { description: d } : {}) });

const OPEN_STAGES = ["qualification", "needs_analysis", "proposal", "negotiation"];
const STAGES = [...OPEN_STAGES, "won", "lost"];
const LEAD_STATES = ["unassigned", "pending", "following", "invalid", "converted", "voided"];
const ROLES = ["admin", "manager", "sales", "finance", "auditor"];
const CHANNELS = ["call", "visit", "email", "message", "other"];
const LEVELS = ["A", "B", "C", "D"];
const POOL_REASONS = ["created", "released", "recycled", "handover"];
const INSTALLMENT_STATUS = ["pending", "partial", "paid", "overdue"];

// Every code of src/api/problem.cc (ProblemCodes()), in its order.
const PROBLEM_CODES = [
  "malformed_json",
  "malformed_request",
  "validation_failed",
  "unauthorized",
  "forbidden",
  "not_found",
  "method_not_allowed",
  "duplicate_customer",
  "duplicate_contract_number",
  "duplicate_lead",
  "duplicate_invoice_number",
  "invalid_transition",
  "version_conflict",
  "payload_too_large",
  "headers_too_large",
  "claim_limit_reached",
  "capacity_reached",
  "previous_owner_blocked",
  "not_in_pool",
  "plan_mismatch",
  "overpayment",
  "overinvoiced",
  "idempotency_key_reused",
  "staff_departed",
  "too_many_attempts",
  "not_leader",
  "projection_lagging",
  "unavailable",
  "internal",
];

const AMOUNT = int({
  minimum: 1,
  maximum: 1000000000000000,
  description: "In the currency's smallest unit (fen for CNY); 1 to 10^15.",
});
const CURRENCY = str({ pattern: "^[A-Z]{3}$", description: "ISO 4217 code, e.g. CNY." });
const DURATION = nstr({
  pattern: "^P(?:\\d+W)?(?:\\d+D)?(?:T(?:\\d+H)?(?:\\d+M)?(?:\\d+S)?)?$",
  description:
    "A positive ISO 8601 duration (weeks, days, hours, minutes, seconds; no years or months), at most P3650D; null turns the rule off. Read back in canonical form (PT48H reads back as P2D).",
});
const COUNT = nint({ minimum: 0, maximum: 1000000, description: "null turns the rule off." });

// ---- schemas --------------------------------------------------------------------------

const schemas = {
  Problem: obj(
    {
      type: str({ description: "urn:evcrm:error:<code>", examples: ["urn:evcrm:error:claim_limit_reached"] }),
      title: str(),
      status: int({ minimum: 400, maximum: 599 }),
      code: str({ enum: PROBLEM_CODES }),
      detail: str(),
      errors: arr(obj({ field: str(), message: str() }, ["field", "message"]), {
        description: "Every invalid field, when code is validation_failed.",
      }),
      existing_id: str({
        description:
          "The record that already holds the name or number (duplicate_customer, duplicate_lead; duplicate_contract_number when the caller may see that contract).",
      }),
      owner_id: nid("stf", "duplicate_lead: the owner of the lead it matches; null when that lead is in the pool."),
    },
    ["type", "title", "status", "code", "detail"],
    { description: "RFC 9457 problem details, served as application/problem+json." },
  ),
  Money: {
    type: "object",
    description:
      "Sums per currency, e.g. {\"CNY\": 1200000}: every currency with a figure in scope; {} when there is none.",
    propertyNames: { pattern: "^[A-Z]{3}$" },
    additionalProperties: { type: "integer" },
  },
  CommandAnswer: obj(
    {
      id: str({ description: "The record the command wrote." }),
      version: nint({ description: "The record's new stream version." }),
      position: int({ minimum: 0, description: "Global log position of the command's last event." }),
    },
    ["id", "version", "position"],
  ),
  ListPage: obj(
    {
      items: arr({}),
      next_cursor: nstr({ description: "Pass as ?cursor= for the next page; null on the last page." }),
    },
    ["items", "next_cursor"],
  ),
  Health: obj(
    {
      status: str({
        enum: ["ok", "degraded", "failing", "halted"],
        description:
          "ok; degraded (200): the read models' store failed a write, they are served from memory and rebuilt at the next start; failing (503): the read models cannot follow the log (it cannot be read, or a projection failed to apply an event, which is never skipped); halted (503): the writer refuses every command until a restart, after a failed write of the log.",
      }),
      position: int({ minimum: 0, description: "The log's head (last durable position)." }),
      projections: {
        type: "object",
        additionalProperties: { type: "integer", minimum: 0 },
        description: "Position each projection has applied.",
      },
      detail: str({ description: "What is wrong (every status but ok)." }),
      log: obj(
        {
          store: str({ enum: ["jetstream"] }),
          stream: str({ description: "The JetStream stream holding the log." }),
          node: str({ description: "This node's name (crmd --node)." }),
          sequence: int({ minimum: 0, description: "The last stream sequence in this node's copy of the log." }),
          lag: int({ minimum: 0, description: "Stream messages this node has not applied yet, as it last heard." }),
        },
        ["store", "stream", "node", "sequence", "lag"],
        { description: "Only on a replicated log (crmd --store jetstream)." },
      ),
      role: str({ enum: ["writer", "standby"], description: "Only on a replicated log: whether this node decides commands." }),
      writer: {
        oneOf: [
          obj(
            { node: str(), url: str({ description: "Where the writer takes commands." }), term: int({ minimum: 1 }) },
            ["node", "url", "term"],
          ),
          { type: "null" },
        ],
        description: "Only on a replicated log: the node holding the writer's lease as this node knows it; null while none does (a failover).",
      },
    },
    ["status", "position", "projections"],
  ),
  Department: obj(
    {
      id: id("dep"),
      name: str(),
      parent_id: nid("dep"),
      staff_count: int({ minimum: 0, description: "Members of this department (not of its children) who have not departed." }),
      created_at: ntime(),
      version: int({ minimum: 1, description: "For If-Match on PATCH /api/v1/departments/{id}." }),
      children: arr(ref("Department")),
    },
    ["id", "name", "parent_id", "staff_count", "created_at", "version", "children"],
  ),
  DepartmentTree: obj(
    { items: arr(ref("Department"), { description: "The root departments, each with its children." }) },
    ["items"],
  ),
  Staff: obj(
    {
      id: id("stf"),
      name: str(),
      email: str({ format: "email" }),
      role: str({ enum: ROLES }),
      department_id: nid("dep"),
      region: nstr(),
      departed: bool(),
      departed_at: ntime(),
      created_at: ntime(),
      version: int({ minimum: 1 }),
    },
    ["id", "name", "email", "role", "department_id", "region", "departed", "departed_at", "created_at", "version"],
  ),
  StaffCreated: {
    allOf: [
      ref("CommandAnswer"),
      obj({
        token: nstr({
          description: "The new person's bearer token, shown once; null on a retry with the same Idempotency-Key.",
        }),
        token_redacted: bool({ description: "true on a retry's answer: issue a new token with /tokens." }),
      }, ["token"]),
    ],
  },
  SignIn: obj(
    {
      email: str({ maxLength: 254, description: "Compared without regard to ASCII case." }),
      password: str({ minLength: 1, maxLength: 200 }),
    },
    ["email", "password"],
  ),
  Session: obj(
    {
      token: str({ description: "A bearer token for every other request and for /api/v1/live; it ends after 12 hours without use, at sign-out, when the person's password is set anew, or when they depart." }),
      staff: obj(
        { id: id("stf"), name: str(), role: str({ enum: ["admin", "manager", "sales", "finance", "auditor"] }), department_id: nid("dep") },
        ["id", "name", "role", "department_id"],
      ),
      expires_at: time({ description: "When the token ends if unused; each use moves it 12 hours on." }),
    },
    ["token", "staff", "expires_at"],
  ),
  SetPassword: obj(
    {
      password: str({ minLength: 12, maxLength: 200, description: "12 to 200 characters (code points), kept exactly as sent." }),
      current_password: str({ minLength: 1, maxLength: 200, description: "Required when a person who already has a password sets their own." }),
    },
    ["password"],
  ),
  TokenIssued: obj(
    { staff_id: id("stf"), token: str(), position: int({ minimum: 0, description: "The log head when the token was issued." }) },
    ["staff_id", "token", "position"],
  ),
  Portfolio: obj(
    {
      staff_id: id("stf"),
      counts: obj(
        { leads: int({ minimum: 0 }), customers: int({ minimum: 0 }), opportunities: int({ minimum: 0 }), contracts: int({ minimum: 0 }) },
        ["leads", "customers", "opportunities", "contracts"],
      ),
      leads: arr(id("lead")),
      customers: arr(id("cus")),
      opportunities: arr(id("opp")),
      contracts: arr(id("con")),
    },
    ["staff_id", "counts", "leads", "customers", "opportunities", "contracts"],
    { description: "What a handover of this person would move." },
  ),
  HandoverAnswer: {
    allOf: [
      ref("CommandAnswer"),
      obj(
        {
          staff_id: id("stf"),
          moved: obj(
            { leads: int({ minimum: 0 }), customers: int({ minimum: 0 }), opportunities: int({ minimum: 0 }), contracts: int({ minimum: 0 }) },
            ["leads", "customers", "opportunities", "contracts"],
          ),
        },
        ["staff_id", "moved"],
      ),
    ],
  },
  PoolPolicy: obj(
    {
      recycle_no_follow_up: { ...DURATION, description: "No follow-up since max(last follow-up, claim/assign). " + DURATION.description },
      recycle_no_deal: { ...DURATION, description: "Customers only: no signed contract since claim/assign. " + DURATION.description },
      remind_before: { ...DURATION, description: "Items show recycle_at and are listed in /pool/me within this window. " + DURATION.description },
      daily_claim_limit: { ...COUNT, description: "Claims per rep per business day; null = no limit." },
      previous_owner_block: { ...DURATION, description: "A previous owner may not reclaim within this. " + DURATION.description },
      max_owned_customers: { ...COUNT, description: "Per rep; claims, assignments, transfers, conversions and handovers beyond it refuse; null = off." },
      max_owned_leads: { ...COUNT, description: "Per rep (leads pending, following or invalid); null = off." },
    },
    ["recycle_no_follow_up", "recycle_no_deal", "remind_before", "daily_claim_limit", "previous_owner_block", "max_owned_customers", "max_owned_leads"],
  ),
  PoolPolicyView: {
    allOf: [ref("PoolPolicy"), obj({ version: int({ minimum: 0, description: "Version of the pool_policy stream (also the ETag)." }) }, ["version"])],
  },
  PoolLead: obj(
    {
      kind: str({ const: "lead" }),
      id: id("lead"),
      name: str(),
      company: str(),
      region: nstr(),
      source: nstr(),
      since: ntime(),
      reason: str({ enum: POOL_REASONS }),
      previous_owner_id: nid("stf"),
      version: int({ minimum: 1 }),
    },
    ["kind", "id", "name", "company", "region", "source", "since", "reason", "previous_owner_id", "version"],
  ),
  PoolCustomer: obj(
    {
      kind: str({ const: "customer" }),
      id: id("cus"),
      name: str(),
      industry: nstr(),
      region: nstr(),
      level: nstr({ enum: [...LEVELS, null] }),
      since: ntime(),
      reason: str({ enum: POOL_REASONS }),
      previous_owner_id: nid("stf"),
      version: int({ minimum: 1 }),
    },
    ["kind", "id", "name", "industry", "region", "level", "since", "reason", "previous_owner_id", "version"],
  ),
  PoolItem: {
    oneOf: [ref("PoolLead"), ref("PoolCustomer")],
    discriminator: {
      propertyName: "kind",
      mapping: { lead: "#/components/schemas/PoolLead", customer: "#/components/schemas/PoolCustomer" },
    },
  },
  PoolMe: obj(
    {
      staff_id: id("stf"),
      claims_today: int({ minimum: 0 }),
      daily_claim_limit: nint(),
      owned_customers: int({ minimum: 0 }),
      max_owned_customers: nint(),
      owned_leads: int({ minimum: 0 }),
      max_owned_leads: nint(),
      remind_before: nstr(),
      due_for_recycle: arr(
        obj(
          {
            kind: str({ enum: ["lead", "customer"] }),
            id: str(),
            name: str(),
            company: str({ description: "Leads only." }),
            recycle_at: time(),
          },
          ["kind", "id", "name", "recycle_at"],
        ),
        { description: "The caller's items due for recycle within remind_before, soonest first." },
      ),
    },
    ["staff_id", "claims_today", "daily_claim_limit", "owned_customers", "max_owned_customers", "owned_leads", "max_owned_leads", "remind_before", "due_for_recycle"],
  ),
  FollowUp: obj(
    {
      id: id("fup"),
      channel: str({ enum: CHANNELS }),
      note: str(),
      next_at: ntime(),
      at: ntime(),
      by: str({ description: "The staff member who recorded it." }),
    },
    ["id", "channel", "note", "next_at", "at", "by"],
  ),
  Lead: obj(
    {
      id: id("lead"),
      version: int({ minimum: 1 }),
      name: str(),
      company: str(),
      phone: nstr(),
      email: nstr(),
      source: nstr(),
      region: nstr(),
      state: str({ enum: LEAD_STATES }),
      state_reason: nstr(),
      owner_id: nid("stf"),
      in_pool: bool(),
      pool_since: ntime(),
      pool_reason: nstr({ enum: [...POOL_REASONS, null] }),
      previous_owner_id: nid("stf"),
      owned_since: ntime(),
      recycle_at: ntime("When the pool rules would recycle it; null when no rule applies."),
      last_follow_up_at: ntime(),
      next_follow_up_at: ntime(),
      follow_up_count: int({ minimum: 0 }),
      follow_ups: arr(ref("FollowUp")),
      customer_id: nid("cus"),
      contact_id: nid("ctc"),
      opportunity_id: nid("opp"),
      duplicate_of: nid("lead", "The live lead this one matched (same phone, or same company and name) when it was recorded with allow_duplicate."),
      created_at: ntime(),
      created_by: str(),
      updated_at: ntime(),
    },
    ["id", "version", "name", "company", "state", "owner_id", "in_pool", "recycle_at", "follow_ups", "customer_id", "duplicate_of", "created_at"],
  ),
  AutoAssignAnswer: obj(
    {
      assignments: arr(obj({ lead_id: id("lead"), owner_id: id("stf"), version: nint() }, ["lead_id", "owner_id", "version"])),
      unassigned: arr(id("lead"), { description: "Leads no one listed could take (capacity, or no one of the lead's region)." }),
      position: int({ minimum: 0 }),
    },
    ["assignments", "unassigned", "position"],
  ),
  LeadFollowUpAnswer: obj(
    {
      id: id("fup"),
      lead_id: id("lead"),
      version: nint({ description: "The lead's new version." }),
      position: int({ minimum: 0 }),
    },
    ["id", "lead_id", "version", "position"],
  ),
  ConversionAnswer: {
    allOf: [
      ref("CommandAnswer"),
      obj(
        {
          customer_id: id("cus"),
          customer_created: bool({ description: "false when the lead was attached to an existing customer." }),
          contact_id: nid("ctc"),
          opportunity_id: nid("opp"),
        },
        ["customer_id", "customer_created", "contact_id", "opportunity_id"],
      ),
    ],
    description: "id and version are the lead's.",
  },
  CustomerSummary: obj(
    {
      id: id("cus"),
      version: int({ minimum: 1 }),
      name: str(),
      industry: nstr(),
      region: nstr(),
      level: nstr({ enum: [...LEVELS, null] }),
      phone: nstr(),
      address: nstr(),
      owner_id: nid("stf"),
      in_pool: bool(),
      locked: bool(),
      merged_into: nid("cus", "Set once the customer was merged into that one: it holds nothing, takes no command and is in no list."),
      recycle_at: ntime(),
      last_follow_up_at: ntime(),
      created_at: ntime(),
      updated_at: ntime(),
    },
    ["id", "version", "name", "industry", "region", "level", "owner_id", "in_pool", "locked", "merged_into", "recycle_at", "last_follow_up_at"],
  ),
  Contact: obj(
    {
      id: id("ctc"),
      version: int({ minimum: 1 }),
      customer_id: id("cus"),
      name: str(),
      title: nstr(),
      phone: nstr(),
      email: nstr(),
      decision_maker: bool(),
      created_at: ntime(),
    },
    ["id", "version", "customer_id", "name", "title", "phone", "email", "decision_maker"],
  ),
  Customer360: {
    allOf: [
      ref("CustomerSummary"),
      obj(
        {
          owner_history: arr(
            obj(
              {
                owner_id: id("stf"),
                from: ntime(),
                to: ntime("null while it lasts."),
                reason: str({ description: "How the period began: created, converted, claimed, transferred, handover." }),
              },
              ["owner_id", "from", "to", "reason"],
            ),
          ),
          source_lead_ids: arr(id("lead")),
          merged_from: arr(id("cus"), { description: "The customers merged into this one, in order; their pasts are in its timeline." }),
          contacts: arr(ref("Contact")),
          follow_ups: arr(ref("FollowUp"), { description: "The latest 20." }),
          follow_up_count: int({ minimum: 0 }),
          opportunities: arr(ref("Opportunity")),
          contracts: arr(ref("Contract")),
          totals: obj(
            {
              contracted: ref("Money"),
              paid: ref("Money"),
              outstanding: ref("Money"),
              overdue: ref("Money"),
              invoiced: { ...ref("Money"), description: "By invoices not voided." },
              invoiced_unpaid: { ...ref("Money"), description: "Per contract, what is invoiced beyond what is paid." },
              paid_uninvoiced: { ...ref("Money"), description: "Per contract, what is paid beyond what is invoiced." },
            },
            ["contracted", "paid", "outstanding", "overdue", "invoiced", "invoiced_unpaid", "paid_uninvoiced"],
          ),
          pool_since: ntime(),
          pool_reason: nstr({ enum: [...POOL_REASONS, null] }),
          previous_owner_id: nid("stf"),
          owned_since: ntime(),
          as_of: obj(
            { position: int({ minimum: 0 }), at: time() },
            ["position", "at"],
            { description: "Present only with ?as_of=: the log position and time the view reflects." },
          ),
        },
        ["owner_history", "source_lead_ids", "contacts", "follow_ups", "opportunities", "contracts", "totals"],
      ),
    ],
    description: "The customer 360 view.",
  },
  CustomerFollowUpAnswer: obj(
    {
      id: id("fup"),
      customer_id: id("cus"),
      version: nint({ description: "The customer's new version." }),
      position: int({ minimum: 0 }),
    },
    ["id", "customer_id", "version", "position"],
  ),
  ContactCreated: {
    allOf: [ref("CommandAnswer"), obj({ customer_id: id("cus") }, ["customer_id"])],
    description: "id and version are the new contact's.",
  },
  Opportunity: obj(
    {
      id: id("opp"),
      version: int({ minimum: 1 }),
      customer_id: id("cus"),
      name: str(),
      stage: str({ enum: STAGES }),
      probability: int({ minimum: 0, maximum: 100, description: "qualification 10, needs_analysis 30, proposal 50, negotiation 80, won 100, lost 0." }),
      amount: int(),
      currency: CURRENCY,
      expected_close_date: date(),
      owner_id: nid("stf", "Always the customer's owner."),
      source_lead_id: nid("lead"),
      contract_id: nid("con", "The contract whose signing won it."),
      close_reason: nstr(),
      closed_at: ntime(),
      created_at: ntime(),
      updated_at: ntime(),
    },
    ["id", "version", "customer_id", "name", "stage", "probability", "amount", "currency", "expected_close_date", "owner_id"],
  ),
  Installment: obj(
    {
      due_on: date(),
      amount: int(),
      paid: int({ minimum: 0 }),
      status: str({ enum: INSTALLMENT_STATUS }),
      days_overdue: int({ minimum: 0 }),
    },
    ["due_on", "amount", "paid", "status", "days_overdue"],
  ),
  Payment: obj(
    {
      id: id("pay"),
      amount: int(),
      received_on: date(),
      method: nstr(),
      reference: nstr(),
      recorded_at: ntime(),
      recorded_by: str(),
      reversed: bool({ description: "Taken back (冲销): it no longer counts in paid." }),
      reversal: {
        ...obj({ at: time(), by: str(), on: date("The business day it counts in."), reason: str() }, ["at", "by", "on", "reason"]),
        type: ["object", "null"],
      },
    },
    ["id", "amount", "received_on", "method", "reference", "recorded_at", "recorded_by", "reversed", "reversal"],
  ),
  Invoice: obj(
    {
      id: id("inv"),
      version: int({ minimum: 1 }),
      contract_id: id("con"),
      contract_number: str(),
      customer_id: id("cus"),
      number: str(),
      amount: int(),
      currency: CURRENCY,
      issued_on: date(),
      kind: str({ enum: ["vat_special", "vat_normal"] }),
      tax_rate_pct: nint({ minimum: 0, maximum: 100 }),
      status: str({ enum: ["issued", "voided"] }),
      void_reason: nstr(),
      voided_at: ntime(),
      created_at: ntime(),
      created_by: str(),
    },
    ["id", "version", "contract_id", "customer_id", "number", "amount", "currency", "issued_on", "kind", "status"],
  ),
  Contract: obj(
    {
      id: id("con"),
      version: int({ minimum: 1 }),
      customer_id: id("cus"),
      opportunity_id: nid("opp"),
      number: str(),
      title: str(),
      amount: int(),
      currency: CURRENCY,
      paid: int({ minimum: 0 }),
      outstanding: int({ minimum: 0 }),
      overdue: int({ minimum: 0, description: "What is still unpaid of installments past due." }),
      status: str({ enum: ["active", "paid"] }),
      signed_on: date(),
      signed_by: id("stf", "The customer's owner when signed; never moves."),
      owner_id: nid("stf", "Always the customer's owner."),
      installments: arr(ref("Installment")),
      payments: arr(ref("Payment")),
      invoiced: int({ minimum: 0, description: "By invoices not voided." }),
      invoices: arr(ref("Invoice")),
      created_at: ntime(),
      updated_at: ntime(),
    },
    ["id", "version", "customer_id", "number", "title", "amount", "currency", "paid", "outstanding", "status", "signed_on", "signed_by", "owner_id", "installments"],
  ),
  PaymentAnswer: obj(
    {
      id: id("pay"),
      contract_id: id("con"),
      version: nint({ description: "The contract's new version." }),
      position: int({ minimum: 0 }),
    },
    ["id", "contract_id", "version", "position"],
  ),
  Receivable: obj(
    {
      contract_id: id("con"),
      contract_number: str(),
      customer_id: id("cus"),
      customer_name: nstr(),
      owner_id: nid("stf"),
      signed_by: id("stf"),
      installment: int({ minimum: 0, description: "Index of the installment in the contract's plan." }),
      due_on: date(),
      amount: int(),
      paid: int({ minimum: 0 }),
      outstanding: int({ minimum: 0 }),
      currency: CURRENCY,
      status: str({ enum: ["pending", "partial", "overdue"] }),
      days_overdue: int({ minimum: 0 }),
    },
    ["contract_id", "contract_number", "customer_id", "signed_by", "installment", "due_on", "amount", "paid", "outstanding", "currency", "status", "days_overdue"],
  ),
  Target: obj(
    {
      period: str({ pattern: "^[0-9]{4}-(0[1-9]|1[0-2])$" }),
      staff_id: id("stf"),
      department_id: id("dep"),
      amount: int(),
      currency: CURRENCY,
      position: int({ minimum: 0 }),
    },
    ["period", "amount", "currency", "position"],
  ),
  Dashboard: obj(
    {
      period: str({ pattern: "^[0-9]{4}-(0[1-9]|1[0-2])$" }),
      position: int({ minimum: 0 }),
      leads: obj(
        {
          created: int({ minimum: 0 }),
          assigned: int({ minimum: 0 }),
          converted: int({ minimum: 0 }),
          conversion_rate: { type: "number", minimum: 0 },
          by_state: obj(
            Object.fromEntries(LEAD_STATES.map((s) => [s, int({ minimum: 0 })])),
            LEAD_STATES,
            { description: "State now, not for the period." },
          ),
        },
        ["created", "assigned", "converted", "conversion_rate", "by_state"],
      ),
      pool: obj(
        { leads: int({ minimum: 0 }), customers: int({ minimum: 0 }), claimed: int({ minimum: 0 }), recycled: int({ minimum: 0 }) },
        ["leads", "customers", "claimed", "recycled"],
      ),
      pipeline: obj(
        {
          by_stage: arr(
            obj({ stage: str({ enum: STAGES }), count: int({ minimum: 0 }), amount: ref("Money"), weighted: ref("Money") }, ["stage", "count", "amount", "weighted"]),
          ),
          forecast: ref("Money"),
        },
        ["by_stage", "forecast"],
      ),
      contracts: obj({ signed: int({ minimum: 0 }), amount: ref("Money") }, ["signed", "amount"]),
      payments: obj({ count: int({ minimum: 0 }), received: ref("Money") }, ["count", "received"]),
      receivables: obj({ outstanding: ref("Money"), overdue: ref("Money") }, ["outstanding", "overdue"]),
      leaderboard: arr(
        obj(
          {
            staff_id: id("stf"),
            name: str(),
            contracts: ref("Money"),
            received: ref("Money"),
            target: ref("Money"),
            attainment: { type: "number", minimum: 0, description: "received / target in the target's currency; 0 without a target." },
          },
          ["staff_id", "name", "contracts", "received", "target", "attainment"],
        ),
      ),
    },
    ["period", "position", "leads", "pool", "pipeline", "contracts", "payments", "receivables", "leaderboard"],
    {
      description:
        "Period figures count events whose business date falls in the period; by_state, pool, pipeline and receivables are the state now. A contract counts for its signed_by, a payment for its contract's signed_by.",
    },
  ),
  Event: obj(
    {
      position: int({ minimum: 1 }),
      stream: str({ description: "The record's id, or pool_policy, targets." }),
      version: int({ minimum: 1 }),
      type: str(),
      at: time(),
      actor: str({ description: "The staff id whose command wrote it, or system." }),
      command_id: str(),
      correlation_id: str({ description: "X-Correlation-Id of the request, else the command id." }),
      data: { type: "object", description: "The event's payload." },
      hash: str({ pattern: "^[0-9a-f]{64}$" }),
    },
    ["position", "stream", "version", "type", "at", "actor", "command_id", "data", "hash"],
  ),
  AuditVerification: {
    oneOf: [
      obj(
        {
          ok: { const: true },
          events: int({ minimum: 0 }),
          head_position: int({ minimum: 0 }),
          head_hash: str({ pattern: "^[0-9a-f]{64}$" }),
        },
        ["ok", "events", "head_position", "head_hash"],
      ),
      obj(
        {
          ok: { const: false },
          events: int({ minimum: 0, description: "Events verified before the bad one." }),
          first_bad_position: int({ minimum: 1 }),
          detail: str(),
        },
        ["ok", "first_bad_position", "detail"],
      ),
    ],
  },
};

for (const name of ["Lead", "CustomerSummary", "Contact", "Opportunity", "Contract", "Receivable", "Installment", "Payment", "FollowUp", "PoolLead", "PoolCustomer"]) {
  schemas[name].required = Object.keys(schemas[name].properties);
}
{
  const extra = schemas.Customer360.allOf[1];
  extra.required = Object.keys(extra.properties).filter((k) => k !== "as_of");
}

const page = (item) => ({
  allOf: [ref("ListPage"), obj({ items: arr(ref(item)) })],
});
schemas.StaffPage = page("Staff");
schemas.PoolPage = page("PoolItem");
schemas.LeadPage = page("Lead");
schemas.CustomerPage = page("CustomerSummary");
schemas.OpportunityPage = page("Opportunity");
schemas.ContractPage = page("Contract");
schemas.ReceivablePage = page("Receivable");
schemas.EventPage = page("Event");

// Request bodies.
const rb = {
  CreateDepartment: obj({ name: str({ minLength: 1, maxLength: 100 }), parent_id: id("dep") }, ["name"]),
  CreateStaff: obj(
    {
      name: str({ minLength: 1, maxLength: 100 }),
      email: str({ format: "email", maxLength: 254, description: "Unique, case-insensitive." }),
      role: str({ enum: ROLES }),
      department_id: id("dep"),
      region: str({ maxLength: 100 }),
    },
    ["name", "email", "role", "department_id"],
  ),
  Handover: obj(
    {
      to: str({ description: "The successor, \"stf_...\", or \"pool\"." }),
      depart: bool({ default: false, description: "Mark the person departed: their tokens stop working and nothing can be assigned to them again." }),
    },
    ["to"],
  ),
  CreateLead: obj(
    {
      name: str({ minLength: 1, maxLength: 200 }),
      company: str({ minLength: 1, maxLength: 200 }),
      phone: str({ maxLength: 50 }),
      email: str({ format: "email", maxLength: 254 }),
      source: str({ maxLength: 100 }),
      region: str({ maxLength: 100 }),
      owner_id: id("stf", "A sales creator owns the lead (any other owner_id is 403); else this owner, else the pool."),
      allow_duplicate: bool({ default: false, description: "Record it although a live lead has the same phone, or the same company and name (撞单); it shows duplicate_of." }),
    },
    ["name", "company"],
  ),
  AssignLead: obj({ owner_id: id("stf") }, ["owner_id"]),
  AutoAssign: obj(
    {
      lead_ids: arr(id("lead"), { maxItems: 5000, description: "Default: every unassigned lead." }),
      strategy: str({ enum: ["round_robin", "least_loaded", "region"] }),
      staff_ids: arr(id("stf"), { minItems: 1, maxItems: 500 }),
    },
    ["strategy", "staff_ids"],
  ),
  Reason: obj({ reason: str({ minLength: 1, maxLength: 1000 }) }, ["reason"]),
  OptionalReason: obj({ reason: str({ maxLength: 1000 }) }),
  Empty: obj({}, [], { description: "No body, or an empty object; fields are ignored." }),
  FollowUp: obj(
    {
      channel: str({ enum: CHANNELS }),
      note: str({ minLength: 1, maxLength: 5000 }),
      next_at: time(),
    },
    ["channel", "note"],
  ),
  CustomerDetails: obj({
    name: str({ minLength: 1, maxLength: 200 }),
    industry: str({ maxLength: 100 }),
    region: str({ maxLength: 100 }),
    level: str({ enum: LEVELS }),
    phone: str({ maxLength: 50 }),
    address: str({ maxLength: 500 }),
  }),
  Contact: obj(
    {
      name: str({ minLength: 1, maxLength: 200 }),
      title: str({ maxLength: 100 }),
      phone: str({ maxLength: 50 }),
      email: str({ format: "email", maxLength: 254 }),
      decision_maker: bool({ default: false }),
    },
    ["name"],
  ),
  OpportunityDetails: obj(
    {
      name: str({ minLength: 1, maxLength: 200 }),
      amount: AMOUNT,
      currency: CURRENCY,
      expected_close_date: date(),
      stage: str({ enum: OPEN_STAGES, default: "qualification" }),
    },
    ["name", "amount", "currency", "expected_close_date"],
  ),
};
schemas.CreateDepartmentRequest = rb.CreateDepartment;
schemas.CreateStaffRequest = rb.CreateStaff;
schemas.HandoverRequest = rb.Handover;
schemas.CreateLeadRequest = rb.CreateLead;
schemas.AssignLeadRequest = rb.AssignLead;
schemas.AutoAssignRequest = rb.AutoAssign;
schemas.ReasonRequest = rb.Reason;
schemas.OptionalReasonRequest = rb.OptionalReason;
schemas.EmptyRequest = rb.Empty;
schemas.FollowUpRequest = rb.FollowUp;
schemas.ContactRequest = rb.Contact;
schemas.ConvertLeadRequest = {
  type: "object",
  properties: {
    customer: { ...rb.CustomerDetails, description: "The new customer; name defaults to the lead's company." },
    customer_id: id("cus", "Convert into this existing customer."),
    contact: ref("ContactRequest"),
    opportunity: ref("OpportunityDetails"),
  },
  not: { required: ["customer", "customer_id"] },
  description: "At most one of customer and customer_id.",
};
schemas.OpportunityDetails = rb.OpportunityDetails;
schemas.CreateCustomerRequest = {
  ...rb.CustomerDetails,
  required: ["name"],
  properties: {
    ...rb.CustomerDetails.properties,
    owner_id: id("stf", "A sales creator owns it (any other owner_id is 403); else this owner, else the pool."),
  },
};
schemas.PatchCustomerRequest = {
  type: "object",
  minProperties: 1,
  properties: {
    name: str({ minLength: 1, maxLength: 200 }),
    industry: nstr({ maxLength: 100 }),
    region: nstr({ maxLength: 100 }),
    level: nstr({ enum: [...LEVELS, null] }),
    phone: nstr({ maxLength: 50 }),
    address: nstr({ maxLength: 500 }),
  },
  not: { required: ["owner_id"] },
  description: "Present fields change; null clears an optional one. owner_id is refused (use transfer, claim or release).",
};
const patch = (properties, description) => ({ type: "object", minProperties: 1, additionalProperties: false, properties, description });
schemas.PatchLeadRequest = patch(
  {
    name: str({ minLength: 1, maxLength: 200 }),
    company: str({ minLength: 1, maxLength: 200 }),
    phone: nstr({ maxLength: 50 }),
    email: nstr({ format: "email", maxLength: 254 }),
    source: nstr({ maxLength: 100 }),
    region: nstr({ maxLength: 100 }),
    allow_duplicate: bool({ default: false, description: "Accept a new phone, company or name that a live lead has (撞单)." }),
  },
  "Present fields change; null clears an optional one. A new phone, or company and name, is checked for duplicates.",
);
schemas.PatchOpportunityRequest = patch(
  {
    name: str({ minLength: 1, maxLength: 200 }),
    amount: AMOUNT,
    currency: CURRENCY,
    expected_close_date: date(),
  },
  "Present fields change; open opportunities only.",
);
schemas.PatchContactRequest = patch(
  {
    name: str({ minLength: 1, maxLength: 200 }),
    title: nstr({ maxLength: 100 }),
    phone: nstr({ maxLength: 50 }),
    email: nstr({ format: "email", maxLength: 254 }),
    decision_maker: bool(),
  },
  "Present fields change; null clears an optional one.",
);
schemas.PatchStaffRequest = patch(
  {
    name: str({ minLength: 1, maxLength: 100 }),
    email: str({ format: "email", maxLength: 254 }),
    role: str({ enum: ["admin", "manager", "sales", "finance", "auditor"] }),
    department_id: id("dep"),
    region: nstr({ maxLength: 100 }),
  },
  "Present fields change. A new role or department takes effect on visibility at once, open WebSockets included.",
);
schemas.PatchDepartmentRequest = patch(
  { name: str({ minLength: 1, maxLength: 100 }), parent_id: nid("dep", "null: a top department.") },
  "Present fields change.",
);
schemas.ContactPage = page("Contact");
schemas.TransferRequest = obj({ to: id("stf") }, ["to"]);
schemas.MergeRequest = obj({ from: id("cus", "The customer merged into the one in the path.") }, ["from"]);
schemas.ImportRowErrors = obj(
  { row: int({ minimum: 1 }), errors: arr(obj({ field: str(), message: str() }, ["field", "message"])) },
  ["row", "errors"],
);
schemas.ImportAnswer = obj(
  {
    dry_run: bool(),
    rows: int({ minimum: 0, description: "Rows read (empty rows of a CSV are skipped)." }),
    created: int({ minimum: 0, description: "Leads created; in a dry run, leads that would be." }),
    duplicates: arr(
      obj(
        {
          row: int({ minimum: 1 }),
          existing_id: nid("lead", "The live lead it matches (撞单), as a 409 duplicate_lead names it; null in a dry run for a duplicate of an earlier row."),
          same_as_row: int({ minimum: 1, description: "Present when it duplicates an earlier row of the upload." }),
        },
        ["row", "existing_id"],
      ),
    ),
    invalid: arr(ref("ImportRowErrors"), { description: "Rows refused, with each field's problem; skipped." }),
    leads: arr(obj({ row: int({ minimum: 1 }), id: id("lead") }, ["row", "id"]), { description: "Absent in a dry run." }),
    position: int({ minimum: 0 }),
  },
  ["dry_run", "rows", "created", "duplicates", "invalid", "position"],
);
schemas.InvoiceRequest = obj(
  {
    number: str({ minLength: 1, maxLength: 64 }),
    amount: AMOUNT,
    currency: CURRENCY,
    issued_on: date(),
    kind: str({ enum: ["vat_special", "vat_normal"], description: "增值税专用发票 or 普通发票." }),
    tax_rate_pct: int({ minimum: 0, maximum: 100 }),
  },
  ["number", "amount", "currency", "issued_on", "kind"],
);
schemas.InvoicePage = page("Invoice");
schemas.TaskRequest = obj(
  {
    title: str({ minLength: 1, maxLength: 500 }),
    due_at: time(),
    record_id: str({ description: "A lead, customer, opportunity or contract the caller may see." }),
  },
  ["title", "due_at"],
);
schemas.Task = obj(
  {
    kind: str({ enum: ["follow_up", "installment", "recycle", "task"] }),
    due_at: time(),
    record_id: nstr(),
    title: str(),
    overdue: bool(),
    task_id: id("task", "Personal tasks only: for POST /api/v1/tasks/{id}/done."),
  },
  ["kind", "due_at", "record_id", "title", "overdue"],
);
schemas.Tasks = obj({ staff_id: id("stf"), count: int({ minimum: 0 }), items: arr(ref("Task")) }, ["staff_id", "count", "items"]);
schemas.CreateOpportunityRequest = {
  type: "object",
  required: ["customer_id", ...rb.OpportunityDetails.required],
  properties: { customer_id: id("cus"), ...rb.OpportunityDetails.properties },
};
schemas.StageRequest = obj({ stage: str({ enum: OPEN_STAGES }) }, ["stage"]);
schemas.CreateContractRequest = obj(
  {
    customer_id: id("cus"),
    opportunity_id: id("opp"),
    number: str({ minLength: 1, maxLength: 64, description: "Unique." }),
    title: str({ minLength: 1, maxLength: 200 }),
    amount: AMOUNT,
    currency: CURRENCY,
    signed_on: date(),
    installments: arr(obj({ due_on: date(), amount: AMOUNT }, ["due_on", "amount"]), {
      minItems: 1,
      maxItems: 240,
      description: "Must add up to amount exactly (422 plan_mismatch).",
    }),
  },
  ["customer_id", "number", "title", "amount", "currency", "signed_on", "installments"],
);
schemas.PaymentRequest = obj(
  {
    amount: AMOUNT,
    received_on: date(),
    method: str({ maxLength: 50 }),
    reference: str({ maxLength: 200 }),
  },
  ["amount", "received_on"],
);
schemas.TargetRequest = {
  type: "object",
  required: ["period", "amount", "currency"],
  properties: {
    period: str({ pattern: "^[0-9]{4}-(0[1-9]|1[0-2])$", examples: ["2026-11"] }),
    staff_id: id("stf"),
    department_id: id("dep"),
    amount: int({ description: "In the currency's smallest unit." }),
    currency: CURRENCY,
  },
  not: { required: ["staff_id", "department_id"] },
  description: "A target for one person (staff_id) or one department (department_id).",
};

// ---- parameters, headers --------------------------------------------------------------

const parameters = {
  MinPosition: {
    name: "min_position",
    in: "query",
    description: "Wait (at most 5 s) until the read model has applied this log position, else 503 projection_lagging.",
    schema: int({ minimum: 0 }),
  },
  Limit: { name: "limit", in: "query", description: "Page size.", schema: int({ minimum: 1, maximum: 500, default: 50 }) },
  Cursor: { name: "cursor", in: "query", description: "next_cursor of the previous page.", schema: str() },
  IdempotencyKey: {
    name: "Idempotency-Key",
    in: "header",
    description: "A retry with the same key and body gets the first reply again (same status, same body); the same key with another body answers 422 idempotency_key_reused. Keys are scoped to the caller.",
    schema: str({ minLength: 1, maxLength: 200 }),
  },
  IfMatch: {
    name: "If-Match",
    in: "header",
    description: "\"<version>\" of the record the path names (W/\"7\" and 7 also read); 412 version_conflict when it does not match.",
    schema: str({ examples: ["\"7\""] }),
  },
  IfMatchNone: {
    name: "If-Match",
    in: "header",
    description: "This command creates a new record and names no existing one: any If-Match answers 400 validation_failed.",
    schema: str(),
  },
  CorrelationId: {
    name: "X-Correlation-Id",
    in: "header",
    description: "Kept with every event of the command (cut to 200 characters); UTF-8 text without control characters.",
    schema: str(),
  },
  StaffId: { name: "id", in: "path", required: true, description: "Staff id (stf_...).", schema: id("stf") },
  LeadId: { name: "id", in: "path", required: true, description: "Lead id (lead_...).", schema: id("lead") },
  CustomerId: { name: "id", in: "path", required: true, description: "Customer id (cus_...).", schema: id("cus") },
  OpportunityId: { name: "id", in: "path", required: true, description: "Opportunity id (opp_...).", schema: id("opp") },
  ContractId: { name: "id", in: "path", required: true, description: "Contract id (con_...).", schema: id("con") },
  ContactId: { name: "id", in: "path", required: true, description: "Contact id (ctc_...).", schema: id("ctc") },
  DepartmentId: { name: "id", in: "path", required: true, description: "Department id (dep_...).", schema: id("dep") },
  InvoiceId: { name: "id", in: "path", required: true, description: "Invoice id (inv_...).", schema: id("inv") },
  OwnerIdFilter: { name: "owner_id", in: "query", description: "Only records this person owns.", schema: id("stf") },
  RegionFilter: { name: "region", in: "query", schema: str() },
  QFilter: { name: "q", in: "query", description: "Text search.", schema: str() },
  CustomerIdFilter: { name: "customer_id", in: "query", schema: id("cus") },
  AsOf: {
    name: "as_of",
    in: "query",
    description: "An RFC 3339 time or a log position: the view as it was then (a position past the head is the present).",
    schema: str({ examples: ["2026-11-22T08:00:00Z", "1234"] }),
  },
};

const headers = {
  "X-Position": { description: "The log position the read model reflects.", schema: int({ minimum: 0 }) },
  ETag: { description: "\"<version>\" of the record.", schema: str() },
  "Retry-After": { description: "Seconds to wait before trying again.", schema: int({ minimum: 1 }) },
};

// ---- operations -----------------------------------------------------------------------

const PROBLEM = { "application/problem+json": { schema: ref("Problem") } };
const problem = (codes, description) => ({
  description: description ?? codes.join(", "),
  "x-problem-codes": codes,
  content: PROBLEM,
});

// Errors: a map status → {codes, text}; merged from the bases below and each operation's.
const QUERY_ERRORS = {
  400: { validation_failed: "a query parameter is invalid (min_position, limit, a filter) or not one this query takes" },
  401: { unauthorized: "no token, unknown token, revoked token" },
  503: { projection_lagging: "the read model did not reach min_position within 5 s" },
};
const COMMAND_ERRORS = {
  400: {
    malformed_json: "the body is not JSON, or not an object",
    validation_failed: "a field is missing, of the wrong type, or out of range; errors lists every one (also a bad If-Match, Idempotency-Key or X-Correlation-Id)",
  },
  401: { unauthorized: "no token, unknown token, revoked token" },
  403: { forbidden: "the role may not do this (auditors run no command)" },
  412: { version_conflict: "If-Match did not match" },
  413: { payload_too_large: "body over 1 MiB" },
  422: { idempotency_key_reused: "the Idempotency-Key was used for a different request" },
  503: {
    unavailable: "storage failing, or the server busy or stopping; nothing was written unless detail says the log failed while writing",
    not_leader: "the log is replicated (crmd --store jetstream) and this node is a standby: detail names the writer node and where it takes commands; nothing was written",
  },
};

function mergeErrors(...maps) {
  const out = {};
  for (const m of maps) {
    for (const [status, codes] of Object.entries(m)) {
      out[status] = { ...(out[status] ?? {}), ...codes };
    }
  }
  return out;
}

function errorResponses(map) {
  const out = {};
  for (const status of Object.keys(map).sort()) {
    const codes = map[status];
    const names = Object.keys(codes);
    out[status] = problem(
      names,
      names.map((c) => `${c}: ${codes[c]}`).join("; ") + ".",
    );
  }
  return out;
}

const paths = {};
function op(method, path, spec) {
  const {
    id: operationId,
    summary,
    description,
    tag,
    params = [],
    body,
    status = 200,
    answer,
    answerDescription,
    errors = {},
    kind,
    etag = false,
    extra = {},
    ifMatch = "IfMatch",
  } = spec;
  const o = { operationId, summary, ...(description ? { description } : {}), tags: [tag] };
  let parameters = [...params];
  let errMap;
  if (kind === "query") {
    parameters.push(param("MinPosition"));
    errMap = mergeErrors(QUERY_ERRORS, errors);
  } else if (kind === "command") {
    parameters.push(param("IdempotencyKey"), param(ifMatch), param("CorrelationId"));
    errMap = mergeErrors(COMMAND_ERRORS, errors);
  } else {
    errMap = errors;
  }
  if (parameters.length) o.parameters = parameters;
  if (body) {
    o.requestBody = {
      required: body.required ?? true,
      content: { "application/json": { schema: ref(body.schema) } },
    };
  }
  const success = { description: answerDescription ?? "OK" };
  if (kind === "query") {
    success.headers = { "X-Position": hdr("X-Position"), ...(etag ? { ETag: hdr("ETag") } : {}) };
  }
  if (spec.answerContent) success.content = spec.answerContent;
  else if (answer) success.content = { "application/json": { schema: typeof answer === "string" ? ref(answer) : answer } };
  o.responses = { [String(status)]: success, ...errorResponses(errMap) };
  Object.assign(o, extra);
  paths[path] ??= {};
  paths[path][method] = o;
}

const NF = (what) => ({ 404: { not_found: `no such ${what}, or the caller may not see it` } });
const FORBID = (text) => ({ 403: { forbidden: text } });
const INVALID = (text) => ({ 409: { invalid_transition: text } });
const CAPACITY = { capacity_reached: "the person would own more than the pool policy allows" };
const DEPARTED = { staff_departed: "the person named has departed" };
const CLAIM_RULES = {
  not_in_pool: "the item is owned: only items in the pool can be claimed",
  claim_limit_reached: "the caller's daily claim limit is used up",
  previous_owner_blocked: "the caller owned it within previous_owner_block",
  ...CAPACITY,
};

// Operations.
op("get", "/health", {
  id: "getHealth",
  summary: "Liveness and positions",
  description: "No authentication. 503 (same shape, with detail) when the writer has halted after a failed write of the log (status halted: it refuses every command until a restart) or the read models cannot follow the log (status failing); 200 with status degraded when the read models' store failed a write.",
  tag: "Operations",
  answer: "Health",
  extra: {
    security: [],
  },
});
paths["/health"].get.responses["503"] = {
  description: "The writer has halted (status halted) or the read models cannot follow the log (status failing); detail says why.",
  content: { "application/json": { schema: ref("Health") } },
};
op("get", "/metrics", {
  id: "getMetrics",
  summary: "Prometheus metrics",
  description: "Requests by route and status, latency histograms, commit batch sizes, fsync latency, projection lag. Admins and auditors.",
  tag: "Operations",
  answer: undefined,
  errors: {
    401: { unauthorized: "no token, unknown token, revoked token" },
    ...FORBID("only admins and auditors read metrics"),
  },
});
paths["/metrics"].get.responses["200"].content = {
  "text/plain": { schema: str({ description: "Prometheus text exposition format 0.0.4." }) },
};
op("get", "/api/v1/openapi.json", {
  id: "getOpenApi",
  summary: "This document",
  tag: "Operations",
  answer: obj({ openapi: str(), info: { type: "object" }, paths: { type: "object" } }, ["openapi", "info", "paths"]),
  errors: { 401: { unauthorized: "no token, unknown token, revoked token" } },
});

// Organisation.
op("post", "/api/v1/departments", {
  id: "createDepartment",
  summary: "Create a department",
  description: "Admins.",
  tag: "Organisation",
  kind: "command",
  ifMatch: "IfMatchNone",
  body: { schema: "CreateDepartmentRequest" },
  status: 201,
  answer: "CommandAnswer",
  answerDescription: "Created.",
  errors: { 400: { validation_failed: "a field is invalid, or parent_id names no department" }, ...FORBID("only admins create departments") },
});
op("get", "/api/v1/departments", {
  id: "listDepartments",
  summary: "The department tree",
  tag: "Organisation",
  kind: "query",
  answer: "DepartmentTree",
});
op("post", "/api/v1/staff", {
  id: "createStaff",
  summary: "Create a staff member",
  description: "Admins. The answer carries the person's token, shown once.",
  tag: "Organisation",
  kind: "command",
  ifMatch: "IfMatchNone",
  body: { schema: "CreateStaffRequest" },
  status: 201,
  answer: "StaffCreated",
  answerDescription: "Created.",
  errors: { 400: { validation_failed: "a field is invalid, the email is used already, or department_id names no department" }, ...FORBID("only admins create staff") },
});
op("get", "/api/v1/staff", {
  id: "listStaff",
  summary: "List staff",
  tag: "Organisation",
  kind: "query",
  params: [param("Limit"), param("Cursor")],
  answer: "StaffPage",
});
op("get", "/api/v1/staff/{id}", {
  id: "getStaff",
  summary: "One staff member",
  tag: "Organisation",
  kind: "query",
  etag: true,
  params: [param("StaffId")],
  answer: "Staff",
  errors: { 404: { not_found: "no such staff member" } },
});
op("patch", "/api/v1/staff/{id}", {
  id: "editStaff",
  summary: "Edit a staff member",
  description: "Admins. The event (StaffEdited) names each changed field with its old and new value.",
  tag: "Organisation",
  kind: "command",
  params: [param("StaffId")],
  body: { schema: "PatchStaffRequest" },
  answer: "CommandAnswer",
  errors: {
    400: { validation_failed: "a field is invalid or unknown, the email is taken, the department unknown, or no field is given" },
    ...FORBID("only admins edit staff"),
    404: { not_found: "no such staff member" },
    ...INVALID("the person departed; an admin's own role; a role that owns nothing while they still own records"),
  },
});
op("patch", "/api/v1/departments/{id}", {
  id: "editDepartment",
  summary: "Rename or move a department",
  description: "Admins. A move that would put a department inside itself is refused.",
  tag: "Organisation",
  kind: "command",
  params: [param("DepartmentId")],
  body: { schema: "PatchDepartmentRequest" },
  answer: "CommandAnswer",
  errors: {
    400: { validation_failed: "a field is invalid or unknown, the parent unknown, or no field is given" },
    ...FORBID("only admins edit departments"),
    404: { not_found: "no such department" },
    ...INVALID("the move would make a cycle"),
  },
});
op("post", "/api/v1/staff/{id}/tokens", {
  id: "issueStaffToken",
  summary: "Issue a new token",
  description: "Admins. Earlier tokens of that person stop working, their console sessions too. Only the token's hash is kept, in the log's index (never in its events): this endpoint reads no body and does not honour Idempotency-Key or If-Match (each request issues a fresh token).",
  tag: "Organisation",
  params: [param("StaffId"), param("IdempotencyKey"), param("IfMatch")],
  status: 201,
  answer: "TokenIssued",
  answerDescription: "Created.",
  errors: {
    401: { unauthorized: "no token, unknown token, revoked token" },
    ...FORBID("only admins issue tokens"),
    404: { not_found: "no such staff member" },
    413: { payload_too_large: "body over 1 MiB" },
    422: DEPARTED,
    503: { unavailable: "the log failed", not_leader: "the log is replicated (crmd --store jetstream) and this node is a standby: detail names the writer node and where it takes commands; nothing was written" },
  },
});
op("put", "/api/v1/staff/{id}/password", {
  id: "setStaffPassword",
  summary: "Set a person's sign-in password",
  description: "Admins for anyone; every person (auditors too) for themself, with current_password once they have one. The password is hashed with Argon2id and the hash kept in the log's index, beside the token hashes (never in its events); the log records only a PasswordSet event (who set it is its actor). Setting it ends the person's other sessions (all of them when an admin sets it). A wrong current_password counts as a failed sign-in.",
  tag: "Sign-in",
  kind: "command",
  params: [param("StaffId")],
  body: { schema: "SetPassword" },
  status: 204,
  answerDescription: "No Content: the password is set.",
  errors: {
    ...FORBID("only an admin, or the person themself, sets a password; auditors may set their own"),
    404: { not_found: "no such staff member" },
    422: DEPARTED,
    429: { too_many_attempts: "too many wrong current passwords; Retry-After says when to try again" },
  },
});
paths["/api/v1/staff/{id}/password"].put.responses["429"].headers = { "Retry-After": hdr("Retry-After") };
op("post", "/api/v1/sessions", {
  id: "signIn",
  summary: "Sign in with email and password",
  description: "No token. A wrong email or password, a person without a password and a departed person all answer the same 401. The fifth failure within 15 minutes for one email (the twentieth from one client address) answers 429, and so does every attempt until Retry-After has passed, the right password too; each lockout doubles, up to 15 minutes. Attempts still being checked count, so guesses sent at once get no more tries (429 with Retry-After: 1 while they are checked). A person has at most 10 sessions: a new one ends the least recently used.",
  tag: "Sign-in",
  body: { schema: "SignIn" },
  status: 201,
  answer: "Session",
  answerDescription: "Created: a session.",
  errors: {
    400: { malformed_json: "the body is not JSON, or not an object", validation_failed: "email or password missing or not text" },
    401: { unauthorized: "wrong email or password" },
    413: { payload_too_large: "body over 1 MiB" },
    429: { too_many_attempts: "too many failed sign-ins for the email or from the address" },
    503: { unavailable: "too many sign-ins at once (Retry-After: 1), or the log failed", not_leader: "the log is replicated (crmd --store jetstream) and this node is a standby: detail names the writer node and where it takes commands; nothing was written" },
  },
  extra: { security: [] },
});
paths["/api/v1/sessions"].post.responses["429"].headers = { "Retry-After": hdr("Retry-After") };
op("delete", "/api/v1/sessions/current", {
  id: "signOut",
  summary: "Sign out: end the token of this request",
  description: "Ends the bearer token the request carries, a session or an API token; live sockets using it close within a second (1008).",
  tag: "Sign-in",
  status: 204,
  answerDescription: "No Content: the token no longer works.",
  errors: {
    401: { unauthorized: "no token, unknown token, revoked or expired token" },
    503: { unavailable: "the log failed", not_leader: "the log is replicated (crmd --store jetstream) and this node is a standby: detail names the writer node and where it takes commands; nothing was written" },
  },
});
op("get", "/api/v1/staff/{id}/portfolio", {
  id: "getStaffPortfolio",
  summary: "What a handover of this person would move",
  description: "Admins, and managers over the person (sales staff of their department subtree, managers of departments strictly below).",
  tag: "Organisation",
  kind: "query",
  params: [param("StaffId")],
  answer: "Portfolio",
  errors: { ...FORBID("the caller has no power over this person"), 404: { not_found: "no such staff member" } },
});
op("post", "/api/v1/staff/{id}/handover", {
  id: "handOverStaff",
  summary: "Hand over a person's portfolio",
  description: "Admins, and managers over the person. Moves every lead not converted or voided and every customer the person owns, with each customer's opportunities and contracts, to the successor or the pool, atomically; with depart: true the person is marked departed. If-Match refers to the person's stream.",
  tag: "Organisation",
  kind: "command",
  params: [param("StaffId")],
  body: { schema: "HandoverRequest" },
  answer: "HandoverAnswer",
  errors: {
    400: { validation_failed: "to is missing, names the person themself, an unknown person or one who cannot own records" },
    ...FORBID("the caller has no power over this person (or over the successor), or hands over their own portfolio"),
    404: { not_found: "no such staff member" },
    422: { ...DEPARTED, ...CAPACITY },
  },
});

// Pool.
op("get", "/api/v1/pool/policy", {
  id: "getPoolPolicy",
  summary: "The pool policy",
  description: "Everyone.",
  tag: "Pool",
  kind: "query",
  etag: true,
  answer: "PoolPolicyView",
});
op("put", "/api/v1/pool/policy", {
  id: "setPoolPolicy",
  summary: "Replace the pool policy",
  description: "Admins. A full replacement: every field must be present, null where the rule is off. An event on the stream pool_policy; If-Match refers to it. Answers {id: \"pool_policy\", version, position}.",
  tag: "Pool",
  kind: "command",
  body: { schema: "PoolPolicy" },
  answer: "CommandAnswer",
  errors: { ...FORBID("only admins change the pool policy") },
});
op("get", "/api/v1/pool", {
  id: "listPool",
  summary: "What is in the pool",
  description: "Leads first, then customers.",
  tag: "Pool",
  kind: "query",
  params: [
    { name: "kind", in: "query", schema: str({ enum: ["lead", "customer"] }) },
    param("RegionFilter"),
    param("QFilter"),
    param("Limit"),
    param("Cursor"),
  ],
  answer: "PoolPage",
});
op("get", "/api/v1/pool/me", {
  id: "getPoolMe",
  summary: "The caller's counters and items due for recycle",
  tag: "Pool",
  kind: "query",
  answer: "PoolMe",
});

// Leads.
op("get", "/api/v1/leads", {
  id: "listLeads",
  summary: "List visible leads",
  tag: "Leads",
  kind: "query",
  params: [
    { name: "state", in: "query", schema: str({ enum: LEAD_STATES }) },
    param("OwnerIdFilter"),
    param("RegionFilter"),
    param("QFilter"),
    param("Limit"),
    param("Cursor"),
  ],
  answer: "LeadPage",
});
op("post", "/api/v1/leads", {
  id: "createLead",
  summary: "Create a lead",
  description: "Admins, managers, sales. Created by sales: owner = creator, pending; otherwise pending with owner_id, or unassigned (in the pool).",
  tag: "Leads",
  kind: "command",
  ifMatch: "IfMatchNone",
  body: { schema: "CreateLeadRequest" },
  status: 201,
  answer: "CommandAnswer",
  answerDescription: "Created.",
  errors: {
    400: { validation_failed: "a field is invalid; owner_id names an unknown person or one who cannot own leads" },
    ...FORBID("the role may not create leads; a sales rep named another owner; owner_id is outside the manager's departments"),
    409: { duplicate_lead: "a live lead has the same phone, or company and name (撞单), and allow_duplicate is not set; existing_id and owner_id (null in the pool) name it" },
    422: { ...DEPARTED, ...CAPACITY },
  },
});
op("post", "/api/v1/leads/import", {
  id: "importLeads",
  summary: "Import leads from a CSV file or a JSON array (导入线索)",
  description:
    "Admins, managers, sales; at most 10,000 rows and 16 MiB. text/csv: UTF-8 with or without a BOM, UTF-16 with a BOM, or GB18030/GBK as Excel writes it in China; a header row naming the columns name (姓名), company (公司), phone (电话), email (邮箱), source (来源), region (地区); rows are numbered as a spreadsheet shows them (the header is row 1). application/json: an array of lead bodies with those fields, numbered from 1. Each row is checked as POST /leads checks a body; the valid ones that duplicate no live lead nor an earlier row are created in one atomic command, owned by a rep who imports them, else in the pool. With dry_run=true the same is decided and nothing recorded.",
  tag: "Leads",
  kind: "command",
  ifMatch: "IfMatchNone",
  params: [{ name: "dry_run", in: "query", schema: str({ enum: ["true", "false"] }) }],
  answer: "ImportAnswer",
  errors: {
    400: {
      validation_failed: "the file is not UTF-8, UTF-16 or GB18030, a quote is not closed, a header names no lead field, the name or company column is missing, or there are more than 10,000 rows",
      malformed_json: "a JSON upload is not an array",
    },
    ...FORBID("the role may not create leads"),
    413: { payload_too_large: "the upload is larger than 16 MiB" },
  },
  extra: {
    requestBody: {
      required: true,
      content: {
        "text/csv": { schema: { type: "string" } },
        "application/json": { schema: arr(ref("CreateLeadRequest"), { maxItems: 10000 }) },
      },
    },
  },
});
// Exports: each list's filters, then the file.
const exportOp = (list, id, summary, filters, sheet) =>
  op("get", `/api/v1/${list}/export`, {
    id,
    summary,
    description: `${sheet} Of what the caller may see, with the list's own filters, newest first; streamed from a file the server writes a page at a time (constant memory). CSV: UTF-8 with a BOM and CRLF, cells starting with = + - @ prefixed with ' (CSV injection); .xlsx: amounts as numbers in major units with the currency's decimals, past 1,048,576 rows on a further sheet. Times in the business time zone (--utc-offset). The column names are the API's field names, which the lead import reads back. At most 4 exports wait; then 503 with Retry-After.`,
    tag: "Export",
    kind: "query",
    params: [{ name: "format", in: "query", schema: str({ enum: ["csv", "xlsx"], default: "csv" }) }, ...filters],
    errors: { 400: { validation_failed: "format is neither csv nor xlsx, or a filter is invalid or unknown" }, 503: { unavailable: "too many exports wait; Retry-After says when to try again" } },
    answerDescription: "The file (Content-Disposition: attachment).",
    answerContent: {
      "text/csv": { schema: { type: "string" } },
      "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": { schema: { type: "string", format: "binary" } },
    },
  });
exportOp("leads", "exportLeads", "Export leads (CSV or Excel)", [
  { name: "state", in: "query", schema: str({ enum: LEAD_STATES }) },
  param("OwnerIdFilter"),
  param("RegionFilter"),
  param("QFilter"),
], "One row per lead: id, name, company, phone, email, source, region, state, owner_id, owner, created_at, last_follow_up_at, next_follow_up_at, recycle_at, duplicate_of.");
op("post", "/api/v1/leads/assign-auto", {
  id: "autoAssignLeads",
  summary: "Assign leads automatically",
  description: "Managers and admins. Assigns the given leads (or every unassigned lead) among staff_ids; people at capacity are skipped and, for region, leads whose region matches nobody are left: both come back in unassigned.",
  tag: "Leads",
  kind: "command",
  ifMatch: "IfMatchNone",
  body: { schema: "AutoAssignRequest" },
  answer: "AutoAssignAnswer",
  errors: {
    400: { validation_failed: "a field is invalid; a staff id is unknown or cannot own leads" },
    ...FORBID("the role may not assign leads, or a lead or person is outside the manager's departments"),
    404: { not_found: "a lead in lead_ids does not exist or is not visible" },
    ...INVALID("a lead in lead_ids is converted or voided"),
    422: { ...DEPARTED, capacity_reached: "capacity stopped every assignment" },
  },
});
op("get", "/api/v1/leads/{id}", {
  id: "getLead",
  summary: "One lead",
  tag: "Leads",
  kind: "query",
  etag: true,
  params: [param("LeadId")],
  answer: "Lead",
  errors: NF("lead"),
});
op("patch", "/api/v1/leads/{id}", {
  id: "editLead",
  summary: "Edit a lead",
  description: "The owner, their manager, an admin. The event (LeadEdited) names each changed field with its old and new value.",
  tag: "Leads",
  kind: "command",
  params: [param("LeadId")],
  body: { schema: "PatchLeadRequest" },
  answer: "CommandAnswer",
  errors: {
    400: { validation_failed: "a field is invalid or unknown, or no field is given" },
    ...FORBID("only the owner, their manager or an admin may edit it"),
    ...NF("lead"),
    409: {
      invalid_transition: "the lead is converted or voided",
      duplicate_lead: "a live lead has the new phone, or company and name; existing_id and owner_id (null in the pool) name it",
    },
  },
});
const leadCmd = (name, spec) =>
  op("post", `/api/v1/leads/{id}/${name}`, {
    tag: "Leads",
    kind: "command",
    params: [param("LeadId")],
    answer: "CommandAnswer",
    ...spec,
    errors: { ...NF("lead"), ...spec.errors },
  });
leadCmd("assign", {
  id: "assignLead",
  summary: "Assign a lead",
  description: "Managers and admins; from unassigned, pending, following or invalid → pending.",
  body: { schema: "AssignLeadRequest" },
  errors: {
    400: { validation_failed: "owner_id is missing, unknown, or cannot own leads" },
    ...FORBID("the role may not assign leads, or the lead or owner is outside the manager's departments"),
    ...INVALID("the lead is converted or voided"),
    422: { ...DEPARTED, ...CAPACITY },
  },
});
leadCmd("claim", {
  id: "claimLead",
  summary: "Claim a lead from the pool",
  description: "From the pool → pending, owner = caller; pool rules apply. No body.",
  body: { schema: "EmptyRequest", required: false },
  errors: {
    ...FORBID("the role may not own leads"),
    ...INVALID("the lead is converted or voided"),
    422: CLAIM_RULES,
  },
});
leadCmd("release", {
  id: "releaseLead",
  summary: "Release a lead to the pool",
  description: "The owner or their manager → unassigned.",
  body: { schema: "ReasonRequest" },
  errors: { ...FORBID("only the owner, their manager or an admin may release it"), ...INVALID("the lead is not owned (pending, following, invalid)") },
});
leadCmd("follow-ups", {
  id: "recordLeadFollowUp",
  summary: "Record a follow-up on a lead",
  description: "The owner; pending, following, invalid → following. If-Match refers to the lead.",
  body: { schema: "FollowUpRequest" },
  status: 201,
  answer: "LeadFollowUpAnswer",
  answerDescription: "Created.",
  errors: { ...FORBID("only the lead's owner records follow-ups"), ...INVALID("the lead is not pending, following or invalid") },
});
leadCmd("invalidate", {
  id: "invalidateLead",
  summary: "Mark a lead invalid",
  description: "The owner, their manager, an admin; pending, following → invalid.",
  body: { schema: "ReasonRequest" },
  errors: { ...FORBID("only the owner, their manager or an admin may invalidate it"), ...INVALID("the lead is not pending or following") },
});
leadCmd("void", {
  id: "voidLead",
  summary: "Void a lead",
  description: "The owner, their manager, an admin; any state but converted → voided (final).",
  body: { schema: "ReasonRequest" },
  errors: { ...FORBID("only the owner, their manager or an admin may void it"), ...INVALID("the lead is converted or voided") },
});
leadCmd("convert", {
  id: "convertLead",
  summary: "Convert a lead",
  description:
    "The owner, their manager, an admin; pending, following → converted. The customer name defaults to the lead's company; a visible, owned customer with the same normalised name takes the lead (customer_created: false). A new customer is owned by the lead's owner. All records are written atomically.",
  body: { schema: "ConvertLeadRequest" },
  answer: "ConversionAnswer",
  errors: {
    400: { validation_failed: "a field is invalid; both customer and customer_id given; customer_id names no visible customer; opportunity.stage is closed" },
    ...FORBID("only the owner, their manager or an admin may convert it"),
    409: {
      invalid_transition: "the lead is not pending or following, or the customer named by customer_id is in the pool",
      duplicate_customer: "a customer with the same normalised name is in the pool or not visible to the caller; existing_id names it",
    },
    422: CAPACITY,
  },
});

// Customers.
op("get", "/api/v1/customers", {
  id: "listCustomers",
  summary: "List visible customers",
  tag: "Customers",
  kind: "query",
  params: [
    param("OwnerIdFilter"),
    param("QFilter"),
    { name: "level", in: "query", schema: str({ enum: LEVELS }) },
    param("RegionFilter"),
    param("Limit"),
    param("Cursor"),
  ],
  answer: "CustomerPage",
});
exportOp("customers", "exportCustomers", "Export customers (CSV or Excel)", [
  param("OwnerIdFilter"),
  param("QFilter"),
  { name: "level", in: "query", schema: str({ enum: LEVELS }) },
  param("RegionFilter"),
], "One row per customer (merged ones are in no list): id, name, industry, level, region, phone, address, owner_id, owner, in_pool, locked, created_at, last_follow_up_at, recycle_at.");
op("post", "/api/v1/customers", {
  id: "createCustomer",
  summary: "Create a customer",
  description: "Admins, managers, sales. A sales creator owns it, else owner_id, else the pool.",
  tag: "Customers",
  kind: "command",
  ifMatch: "IfMatchNone",
  body: { schema: "CreateCustomerRequest" },
  status: 201,
  answer: "CommandAnswer",
  answerDescription: "Created.",
  errors: {
    400: { validation_failed: "a field is invalid; owner_id names an unknown person or one who cannot own customers" },
    ...FORBID("the role may not create customers; a sales rep named another owner; owner_id is outside the manager's departments"),
    409: { duplicate_customer: "a customer with the same normalised name exists; existing_id names it" },
    422: { ...DEPARTED, ...CAPACITY },
  },
});
op("get", "/api/v1/customers/{id}", {
  id: "getCustomer",
  summary: "The customer 360 view",
  description: "With ?as_of= the view as it was then (with as_of: {position, at}).",
  tag: "Customers",
  kind: "query",
  etag: true,
  params: [param("CustomerId"), param("AsOf")],
  answer: "Customer360",
  errors: {
    400: { validation_failed: "as_of is neither a log position nor an RFC 3339 time" },
    404: { not_found: "no such customer, the caller may not see it, or it did not exist yet at as_of" },
  },
});
op("patch", "/api/v1/customers/{id}", {
  id: "updateCustomer",
  summary: "Edit a customer",
  description: "The owner, their manager, an admin. Any of the create fields but owner_id.",
  tag: "Customers",
  kind: "command",
  params: [param("CustomerId")],
  body: { schema: "PatchCustomerRequest" },
  answer: "CommandAnswer",
  errors: {
    400: { validation_failed: "a field is invalid, owner_id is given, or no field is" },
    ...FORBID("only the owner, their manager or an admin may edit it"),
    ...NF("customer"),
    409: {
      invalid_transition: "the customer is in the pool",
      duplicate_customer: "another customer has the new normalised name; existing_id names it",
    },
  },
});
op("get", "/api/v1/customers/{id}/contacts", {
  id: "listContacts",
  summary: "A customer's contacts",
  description: "In the order they were added.",
  tag: "Customers",
  kind: "query",
  params: [param("CustomerId"), param("Limit"), param("Cursor")],
  answer: "ContactPage",
  errors: NF("customer"),
});
op("patch", "/api/v1/contacts/{id}", {
  id: "editContact",
  summary: "Edit a contact",
  description: "As for its customer. The event (ContactEdited) names each changed field with its old and new value.",
  tag: "Customers",
  kind: "command",
  params: [param("ContactId")],
  body: { schema: "PatchContactRequest" },
  answer: "CommandAnswer",
  errors: {
    400: { validation_failed: "a field is invalid or unknown, or no field is given" },
    ...FORBID("only the customer's owner, their manager or an admin may edit it"),
    ...NF("contact"),
    ...INVALID("the customer is in the pool"),
  },
});
const cusCmd = (name, spec) =>
  op("post", `/api/v1/customers/{id}/${name}`, {
    tag: "Customers",
    kind: "command",
    params: [param("CustomerId")],
    answer: "CommandAnswer",
    ...spec,
    errors: { ...NF("customer"), ...spec.errors },
  });
cusCmd("contacts", {
  id: "addContact",
  summary: "Add a contact",
  description: "The owner, their manager, an admin. If-Match refers to the customer.",
  body: { schema: "ContactRequest" },
  status: 201,
  answer: "ContactCreated",
  answerDescription: "Created.",
  errors: { ...FORBID("only the owner, their manager or an admin may add contacts"), ...INVALID("the customer is in the pool") },
});
cusCmd("follow-ups", {
  id: "recordCustomerFollowUp",
  summary: "Record a follow-up on a customer",
  description: "The owner. If-Match refers to the customer.",
  body: { schema: "FollowUpRequest" },
  status: 201,
  answer: "CustomerFollowUpAnswer",
  answerDescription: "Created.",
  errors: { ...FORBID("only the customer's owner records follow-ups") },
});
cusCmd("claim", {
  id: "claimCustomer",
  summary: "Claim a customer from the pool",
  description: "Pool rules apply; the customer's opportunities and contracts move with it. No body.",
  body: { schema: "EmptyRequest", required: false },
  errors: { ...FORBID("the role may not own customers"), 422: CLAIM_RULES },
});
cusCmd("release", {
  id: "releaseCustomer",
  summary: "Release a customer to the pool",
  description: "The owner, their manager, an admin.",
  body: { schema: "ReasonRequest" },
  errors: { ...FORBID("only the owner, their manager or an admin may release it"), ...INVALID("the customer is in the pool or locked") },
});
cusCmd("transfer", {
  id: "transferCustomer",
  summary: "Transfer a customer",
  description: "Managers and admins; the customer's opportunities and contracts move with it.",
  body: { schema: "TransferRequest" },
  errors: {
    400: { validation_failed: "to is missing, unknown, or cannot own customers" },
    ...FORBID("the role may not transfer customers, or the customer or successor is outside the manager's departments"),
    ...INVALID("the customer is already theirs"),
    422: { ...DEPARTED, ...CAPACITY },
  },
});
cusCmd("merge", {
  id: "mergeCustomers",
  summary: "Merge another customer into this one (合并客户)",
  description: "Admins, and managers who may act on both. In one command every contact, opportunity and contract of `from` moves here (deals take this customer's owner), its lead links and follow-ups show here, and its timeline joins this one's; `from` is then merged (a GET shows merged_into), takes no command, is in no list, and its name is free for anyone.",
  body: { schema: "MergeRequest" },
  errors: {
    400: { validation_failed: "from is missing, this customer itself, unknown or not visible" },
    ...FORBID("the role may not merge customers, or one of them is outside the manager's departments"),
    ...INVALID("one of the two was merged already"),
  },
});
cusCmd("lock", {
  id: "lockCustomer",
  summary: "Lock a customer",
  description: "The owner's manager or an admin. A locked customer is never recycled and cannot be released.",
  body: { schema: "OptionalReasonRequest", required: false },
  errors: { ...FORBID("only a manager over the owner or an admin may lock it"), ...INVALID("the customer is in the pool or locked already") },
});
cusCmd("unlock", {
  id: "unlockCustomer",
  summary: "Unlock a customer",
  description: "The owner's manager or an admin. No body.",
  body: { schema: "EmptyRequest", required: false },
  errors: { ...FORBID("only a manager over the owner or an admin may unlock it"), ...INVALID("the customer is in the pool or not locked") },
});
op("get", "/api/v1/customers/{id}/timeline", {
  id: "getCustomerTimeline",
  summary: "Every event of the customer and its records, newest first",
  tag: "Customers",
  kind: "query",
  params: [param("CustomerId"), param("Limit"), param("Cursor")],
  answer: "EventPage",
  errors: { 400: { validation_failed: "limit or cursor is invalid" }, ...NF("customer") },
});

// Opportunities.
op("get", "/api/v1/opportunities", {
  id: "listOpportunities",
  summary: "List visible opportunities",
  tag: "Opportunities",
  kind: "query",
  params: [
    { name: "stage", in: "query", schema: str({ enum: STAGES }) },
    param("OwnerIdFilter"),
    param("CustomerIdFilter"),
    param("Limit"),
    param("Cursor"),
  ],
  answer: "OpportunityPage",
});
op("post", "/api/v1/opportunities", {
  id: "createOpportunity",
  summary: "Open an opportunity",
  description: "The customer's owner, their manager, an admin. Owned by the customer's owner.",
  tag: "Opportunities",
  kind: "command",
  ifMatch: "IfMatchNone",
  body: { schema: "CreateOpportunityRequest" },
  status: 201,
  answer: "CommandAnswer",
  answerDescription: "Created.",
  errors: {
    400: { validation_failed: "a field is invalid; customer_id names no visible customer; stage is closed" },
    ...FORBID("only the customer's owner, their manager or an admin may open opportunities"),
    ...INVALID("the customer is in the pool"),
  },
});
op("get", "/api/v1/opportunities/{id}", {
  id: "getOpportunity",
  summary: "One opportunity",
  tag: "Opportunities",
  kind: "query",
  etag: true,
  params: [param("OpportunityId")],
  answer: "Opportunity",
  errors: NF("opportunity"),
});
op("patch", "/api/v1/opportunities/{id}", {
  id: "editOpportunity",
  summary: "Edit an opportunity",
  description: "As for its customer; open stages only. The dashboard's pipeline follows at once.",
  tag: "Opportunities",
  kind: "command",
  params: [param("OpportunityId")],
  body: { schema: "PatchOpportunityRequest" },
  answer: "CommandAnswer",
  errors: {
    400: { validation_failed: "a field is invalid or unknown, or no field is given" },
    ...FORBID("only the customer's owner, their manager or an admin may edit it"),
    ...NF("opportunity"),
    ...INVALID("the opportunity is won or lost, or its customer is in the pool"),
  },
});
const oppCmd = (name, spec) =>
  op("post", `/api/v1/opportunities/{id}/${name}`, {
    tag: "Opportunities",
    kind: "command",
    params: [param("OpportunityId")],
    answer: "CommandAnswer",
    ...spec,
    errors: {
      ...NF("opportunity"),
      ...FORBID("only the customer's owner, their manager or an admin may act on it"),
      ...INVALID("the opportunity is closed (won or lost), or its customer is in the pool"),
      ...spec.errors,
    },
  });
oppCmd("stage", {
  id: "changeOpportunityStage",
  summary: "Move an opportunity to another open stage",
  body: { schema: "StageRequest" },
  errors: { 400: { validation_failed: "stage is missing or not an open stage (use /win or /lose to close)" } },
});
oppCmd("win", {
  id: "winOpportunity",
  summary: "Win an opportunity",
  body: { schema: "OptionalReasonRequest", required: false },
});
oppCmd("lose", {
  id: "loseOpportunity",
  summary: "Lose an opportunity",
  body: { schema: "OptionalReasonRequest", required: false },
});

// Contracts.
op("get", "/api/v1/contracts", {
  id: "listContracts",
  summary: "List visible contracts",
  tag: "Contracts",
  kind: "query",
  params: [
    param("CustomerIdFilter"),
    { name: "status", in: "query", schema: str({ enum: ["active", "paid"] }) },
    param("OwnerIdFilter"),
    param("Limit"),
    param("Cursor"),
  ],
  answer: "ContractPage",
});
op("post", "/api/v1/contracts", {
  id: "signContract",
  summary: "Sign a contract",
  description: "The customer's owner, their manager, an admin. signed_by is the customer's owner. Signing a contract for an open opportunity wins it.",
  tag: "Contracts",
  kind: "command",
  ifMatch: "IfMatchNone",
  body: { schema: "CreateContractRequest" },
  status: 201,
  answer: "CommandAnswer",
  answerDescription: "Created.",
  errors: {
    400: { validation_failed: "a field is invalid; customer_id names no visible customer; opportunity_id is not this customer's" },
    ...FORBID("only the customer's owner, their manager or an admin may sign contracts"),
    409: {
      invalid_transition: "the customer is in the pool, or the opportunity is lost",
      duplicate_contract_number: "the number is used already; existing_id names that contract when the caller may see it",
    },
    422: { plan_mismatch: "the installments do not add up to amount" },
  },
});
op("get", "/api/v1/contracts/{id}", {
  id: "getContract",
  summary: "One contract",
  tag: "Contracts",
  kind: "query",
  etag: true,
  params: [param("ContractId")],
  answer: "Contract",
  errors: NF("contract"),
});
op("post", "/api/v1/contracts/{id}/payments", {
  id: "recordPayment",
  summary: "Record a payment",
  description: "Finance and admins. Applied to the earliest installment not fully paid. If-Match refers to the contract.",
  tag: "Contracts",
  kind: "command",
  params: [param("ContractId")],
  body: { schema: "PaymentRequest" },
  status: 201,
  answer: "PaymentAnswer",
  answerDescription: "Created.",
  errors: {
    ...FORBID("only finance and admins record payments"),
    ...NF("contract"),
    ...INVALID("the contract's customer is in the pool"),
    422: { overpayment: "the payment is more than is outstanding" },
  },
});
op("post", "/api/v1/contracts/{id}/payments/{pay_id}/reverse", {
  id: "reversePayment",
  summary: "Reverse a payment (冲销)",
  description:
    "Finance and admins. Takes the payment back from the installments it filled; a paid contract is active again. Dashboards count it, negative, in the period of its own business day. At most once per payment. If-Match refers to the contract.",
  tag: "Contracts",
  kind: "command",
  params: [param("ContractId"), { name: "pay_id", in: "path", required: true, description: "Payment id (pay_...).", schema: id("pay") }],
  body: { schema: "ReasonRequest" },
  answer: "PaymentAnswer",
  errors: {
    ...FORBID("only finance and admins reverse payments"),
    404: { not_found: "no such contract, the caller may not see it, or it has no such payment" },
    ...INVALID("the payment is reversed already, or the contract's customer is in the pool"),
  },
});
op("post", "/api/v1/contracts/{id}/invoices", {
  id: "issueInvoice",
  summary: "Record an invoice (发票)",
  description: "Finance and admins. Numbers are unique; what is invoiced never exceeds the contract amount.",
  tag: "Contracts",
  kind: "command",
  params: [param("ContractId")],
  body: { schema: "InvoiceRequest" },
  status: 201,
  answer: "CommandAnswer",
  answerDescription: "Created: id and version are the invoice's.",
  errors: {
    400: { validation_failed: "a field is invalid, or the currency is not the contract's" },
    ...FORBID("only finance and admins record invoices"),
    ...NF("contract"),
    409: {
      duplicate_invoice_number: "the number is used already (a voided invoice keeps its number); existing_id names it",
      invalid_transition: "the contract's customer is in the pool",
    },
    422: { overinvoiced: "the invoices would add up to more than the contract amount" },
  },
});
op("post", "/api/v1/invoices/{id}/void", {
  id: "voidInvoice",
  summary: "Void an invoice (作废)",
  description: "Finance and admins. Its amount no longer counts as invoiced; its number stays used.",
  tag: "Contracts",
  kind: "command",
  params: [param("InvoiceId")],
  body: { schema: "ReasonRequest" },
  answer: "CommandAnswer",
  errors: { ...FORBID("only finance and admins void invoices"), ...NF("invoice"), ...INVALID("the invoice is voided already") },
});
op("get", "/api/v1/invoices/{id}", {
  id: "getInvoice",
  summary: "One invoice",
  tag: "Contracts",
  kind: "query",
  etag: true,
  params: [param("InvoiceId")],
  answer: "Invoice",
  errors: NF("invoice"),
});
op("get", "/api/v1/invoices", {
  id: "listInvoices",
  summary: "Invoices of the contracts the caller may see",
  description: "Paged by contract, as receivables; with contract_id, that contract's invoices in one page.",
  tag: "Contracts",
  kind: "query",
  params: [
    { name: "contract_id", in: "query", schema: id("con") },
    param("CustomerIdFilter"),
    param("Limit"),
    param("Cursor"),
  ],
  answer: "InvoicePage",
});
op("get", "/api/v1/tasks/me", {
  id: "myTasks",
  summary: "What the caller must do (提醒)",
  description:
    "Derived from the log: follow-ups whose next_at has come, installments of their customers due within 7 days or overdue, their items due for recycle (within remind_before), and the tasks they set themselves. Soonest first. The live topic tasks pushes the same answer.",
  tag: "Tasks",
  kind: "query",
  params: [{ name: "due", in: "query", description: "overdue: due before now; today: by the end of the business day; week: within 7 days. Absent: everything open.", schema: str({ enum: ["overdue", "today", "week"] }) }],
  answer: "Tasks",
  errors: { 400: { validation_failed: "due is not overdue, today or week" } },
});
op("post", "/api/v1/tasks", {
  id: "createTask",
  summary: "Set oneself a task",
  tag: "Tasks",
  kind: "command",
  ifMatch: "IfMatchNone",
  body: { schema: "TaskRequest" },
  status: 201,
  answer: "CommandAnswer",
  answerDescription: "Created: id and version are the task's.",
  errors: { 400: { validation_failed: "a field is invalid, or record_id names no record the caller may see" } },
});
op("post", "/api/v1/tasks/{id}/done", {
  id: "completeTask",
  summary: "Mark one's task done",
  tag: "Tasks",
  kind: "command",
  params: [{ name: "id", in: "path", required: true, description: "Task id (task_...).", schema: id("task") }],
  body: { schema: "EmptyRequest" },
  answer: "CommandAnswer",
  errors: { 404: { not_found: "no such task of the caller's (another person's task reads as missing)" }, ...INVALID("the task is done already") },
});
op("get", "/api/v1/receivables", {
  id: "listReceivables",
  summary: "Installments not fully paid",
  description: "Paged by contract (a page may hold several installments of one contract).",
  tag: "Contracts",
  kind: "query",
  params: [
    { name: "overdue", in: "query", description: "true: only overdue installments.", schema: str({ enum: ["true", "false"] }) },
    param("OwnerIdFilter"),
    param("Limit"),
    param("Cursor"),
  ],
  answer: "ReceivablePage",
});
exportOp("receivables", "exportReceivables", "Export receivables (CSV or Excel)", [
  { name: "overdue", in: "query", description: "true: only overdue installments.", schema: str({ enum: ["true", "false"] }) },
  param("OwnerIdFilter"),
], "One row per installment not fully paid (应收), for finance: contract_id, contract_number, customer_id, customer, owner_id, owner, installment (1-based), due_on, currency, amount, paid, outstanding (major units), status, days_overdue.");

// Targets and dashboards.
op("put", "/api/v1/targets", {
  id: "setTarget",
  summary: "Set a target",
  description: "Admins, and managers for their departments and people. An event on the stream targets.",
  tag: "Targets and dashboards",
  kind: "command",
  body: { schema: "TargetRequest" },
  answer: "Target",
  errors: {
    400: { validation_failed: "a field is invalid; staff_id or department_id names nobody" },
    ...FORBID("the role may not set targets, or not for this person or department"),
  },
});
op("get", "/api/v1/dashboard", {
  id: "getDashboard",
  summary: "The dashboard of a period",
  description: "Scope defaults to what the caller may see.",
  tag: "Targets and dashboards",
  kind: "query",
  params: [
    { name: "period", in: "query", description: "YYYY-MM.", schema: str({ pattern: "^[0-9]{4}-(0[1-9]|1[0-2])$", examples: ["2026-11"] }) },
    { name: "department_id", in: "query", schema: id("dep") },
  ],
  answer: "Dashboard",
  errors: {
    400: { validation_failed: "period or department_id is invalid" },
    ...FORBID("the department is outside what the caller may see"),
  },
});

// Live.
op("get", "/api/v1/live", {
  id: "live",
  summary: "Live updates (WebSocket)",
  description: [
    "Upgrades to a WebSocket. Authenticate with the Authorization header, or send {\"op\": \"auth\", \"token\": \"...\"} as the first message instead (browsers cannot set headers); no auth within 5 s closes the socket with code 1008.",
    "",
    "Client → server:",
    "- {\"op\": \"subscribe\", \"topic\": \"dashboard\", \"period\": \"2026-11\", \"department_id\": null}",
    "- {\"op\": \"subscribe\", \"topic\": \"pool\"}",
    "- {\"op\": \"subscribe\", \"topic\": \"tasks\"} (the caller's own, as GET /api/v1/tasks/me; rebuilt on every change and each minute, as what is due moves with the clock)",
    "- {\"op\": \"subscribe\", \"topic\": \"customer\", \"id\": \"cus_...\"}",
    "- {\"op\": \"subscribe\", \"topic\": \"events\", \"after\": 1200} (auditors, admins)",
    "- {\"op\": \"unsubscribe\", \"topic\": \"...\"}",
    "",
    "Server → client: first {\"type\": \"snapshot\", \"topic\", \"position\", \"data\"}, then {\"type\": \"update\", \"topic\", \"position\", \"data\"} whenever the view changes; data is the JSON the matching GET returns (dashboard: GET /api/v1/dashboard, pool: GET /api/v1/pool, customer: GET /api/v1/customers/{id}), filtered by the caller's visibility. Updates are coalesced: a slow client gets the newest view, never an unbounded queue.",
    "The events topic sends {\"type\": \"event\", \"topic\": \"events\", \"position\": P, \"event\": {...}} (the event as GET /api/v1/events shows it) in log order without gaps.",
    "",
    "Close codes: 1008 (policy violation) when no authentication arrives within 5 s or it fails; 1013 (try again later) when a client of the events topic is too slow to keep up: it resumes with after.",
  ].join("\n"),
  tag: "Live",
  params: [
    { name: "Upgrade", in: "header", required: true, schema: str({ const: "websocket" }) },
    { name: "Connection", in: "header", required: true, schema: str({ examples: ["Upgrade"] }) },
    { name: "Sec-WebSocket-Key", in: "header", required: true, schema: str() },
    { name: "Sec-WebSocket-Version", in: "header", required: true, schema: str({ const: "13" }) },
  ],
  status: 101,
  answerDescription: "Switching Protocols: the connection is a WebSocket carrying the JSON messages described above.",
  errors: {
    401: { unauthorized: "an Authorization header was sent with an unknown or revoked token" },
  },
  extra: {
    security: [{ bearer: [] }, {}],
    "x-websocket-close-codes": {
      1008: "no authentication within 5 s, or it failed",
      1013: "events topic: the client is too slow to keep up; resume with after",
    },
  },
});
paths["/api/v1/live"].get.responses["101"].headers = {
  Upgrade: { schema: str({ const: "websocket" }) },
  "Sec-WebSocket-Accept": { schema: str() },
};

// Audit.
op("get", "/api/v1/events", {
  id: "listEvents",
  summary: "The event log",
  description: "Auditors and admins. Positions are dense: after + limit pages through all of it.",
  tag: "Audit",
  kind: "query",
  params: [
    { name: "after", in: "query", description: "Events after this log position.", schema: int({ minimum: 0, default: 0 }) },
    param("Limit"),
    { name: "stream", in: "query", description: "Only this stream (a record's id, pool_policy, targets).", schema: str() },
    { name: "type", in: "query", description: "Only events of this type.", schema: str() },
    param("Cursor"),
  ],
  answer: "EventPage",
  errors: {
    400: { validation_failed: "after, cursor, limit or type is invalid (type must name an event type)" },
    ...FORBID("only auditors and admins read the log"),
    503: { unavailable: "the log could not be read" },
  },
});
op("get", "/api/v1/audit/verify", {
  id: "verifyAudit",
  summary: "Verify the log's hash chain",
  description: "Auditors and admins. Verifies the whole hash chain of the log as it is when the verification begins; concurrent callers share one pass.",
  tag: "Audit",
  kind: "query",
  answer: "AuditVerification",
  errors: {
    ...FORBID("only auditors and admins verify the log"),
    503: { unavailable: "the log could not be read, or the server is stopping" },
  },
});
// The verification answers from the verifier's thread, not a read-model view: no X-Position.
delete paths["/api/v1/audit/verify"].get.responses["200"].headers;

// ---- document -------------------------------------------------------------------------

const doc = {
  openapi: "3.1.0",
  info: {
    title: "evcrm",
    version: "1",
    description: [
      "The HTTP and WebSocket contract of crmd, an event-sourced CRM server.",
      "",
      "- JSON in and out, UTF-8. Timestamps RFC 3339 UTC, dates YYYY-MM-DD, durations ISO 8601. Money: an integer amount in the currency's smallest unit plus an ISO 4217 currency; sums per currency ({\"CNY\": 1200000}).",
      "- Ids are server-generated with a type prefix: stf_, dep_, lead_, cus_, ctc_, opp_, con_, pay_ (follow-ups fup_).",
      "- An optional body field sent as null reads as absent (PATCH: null clears it).",
      "- Queries accept min_position and answer X-Position; a GET of one record answers ETag: \"<version>\". Commands accept Idempotency-Key and If-Match.",
      "- Errors are application/problem+json (Problem). Beyond each operation's list: any path answers 404 not_found when unknown, 405 method_not_allowed (with Allow) when the method is not, 400 malformed_request or 431 headers_too_large when the request is not valid HTTP/1.1 (the connection closes), 413 payload_too_large for bodies over 1 MiB, 503 unavailable when the server is at its connection limit (Retry-After: 1), and 500 internal on a bug.",
    ].join("\n"),
  },
  security: [{ bearer: [] }],
  tags: [
    { name: "Operations" },
    { name: "Organisation", description: "Departments, staff, tokens, portfolio and handover." },
    { name: "Sign-in", description: "Email and password for the console: sessions that end after 12 hours unused, sign-out, passwords (Argon2id, never in the log)." },
    { name: "Pool", description: "The pool (公海) and its policy." },
    { name: "Leads", description: "Leads (线索)." },
    { name: "Customers", description: "Customers (客户)." },
    { name: "Opportunities", description: "Opportunities (商机)." },
    { name: "Contracts", description: "Contracts, payment plans, payments (合同 · 回款), reversals (冲销) and invoices (发票)." },
    { name: "Tasks", description: "What each person must do (提醒), and the tasks they set themselves." },
    { name: "Export", description: "Leads, customers and receivables as CSV or Excel (导出)." },
    { name: "Targets and dashboards" },
    { name: "Live", description: "Live updates over a WebSocket." },
    { name: "Audit" },
  ],
  paths,
  components: {
    securitySchemes: {
      bearer: {
        type: "http",
        scheme: "bearer",
        description: "Authorization: Bearer <token>. Required on every request except GET /health, and GET /api/v1/live, which may authenticate with its first message instead.",
      },
    },
    parameters,
    headers,
    schemas,
  },
};

writeFileSync(process.argv[2], JSON.stringify(doc, null, 2) + "\n");
console.log(`wrote ${process.argv[2]}`);
