// Exports (导出): GET /api/v1/{leads|customers|receivables}/export?format=csv|xlsx with the
// list's own filters, of what the caller may see. The rows are read a page at a time
// under the read lock, in the list's order (newest first), and written to a file on the
// exporter's thread; the answer is sent from that file. Times are in the business time
// zone (the server's --utc-offset), amounts in major units (yuan) with their currency.
#include <ctime>

#include "api/exporter.h"
#include "api/handler_util.h"
#include "api/list_filters.h"
#include "api/routes.h"
#include "api/views_json.h"
#include "projections/customer_projection.h"

namespace crm::api {

namespace d = crm::domain;

namespace {

using Rows = std::vector<std::vector<Cell>>;

// Rows per read of the read models: the lock is held for one page, the memory is one page.
constexpr size_t kExportPage = 1000;

// One kind of export: its list's filters, its columns, and a page of its rows.
struct ExportKind {
  std::string name;  // "leads": the file's name and the sheet's
  QueryParams filters;
  std::vector<std::string> columns;
  // Appends the rows after `cursor` (one page) to `rows`, and returns the next cursor ("":
  // none). A filter's error is the answer.
  std::function<Result<std::string>(const Services&, const HttpRequest&, const d::Viewer&,
                                    const ReadView&, const std::string& cursor, Rows& rows)>
      page;
};

Cell Text(const std::string& s) { return s.empty() ? Cell{} : Cell{s}; }

// A time in the business time zone, as a spreadsheet reads one: "2026-11-28 09:30:00".
Cell LocalTime(const Services& s, int64_t millis) {
  if (millis == 0) return {};
  std::time_t t = static_cast<std::time_t>(millis / 1000 + s.utc_offset.count());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return std::string(buf);
}
Cell LocalTime(const Services& s, std::optional<Time> t) {
  return t ? LocalTime(s, ToMillis(*t)) : Cell{};
}

Cell OwnerName(const ReadView& view, const std::string& owner_id) {
  if (owner_id.empty()) return {};
  const auto* staff = view.org().FindStaff(owner_id);
  return staff ? Text(staff->name) : Cell{};
}

Cell AmountCell(int64_t minor, const std::string& currency) {
  return Amount{minor, CurrencyDigits(currency)};
}

ExportKind Leads() {
  return {
      "leads",
      kLeadFilterParams,
      {"id", "name", "company", "phone", "email", "source", "region", "state", "owner_id", "owner",
       "created_at", "last_follow_up_at", "next_follow_up_at", "recycle_at", "duplicate_of"},
      [](const Services& s, const HttpRequest& req, const d::Viewer& v, const ReadView& view,
         const std::string& cursor, Rows& rows) -> Result<std::string> {
        CRM_ASSIGN_OR_RETURN(auto f, LeadFilterFrom(req, view, v));
        auto page = view.leads().List(f, VisibleTo(view, v), cursor, kExportPage);
        for (const auto* r : page.items) {
          rows.push_back({r->id, r->name, r->company, Text(r->phone), Text(r->email),
                          Text(r->source), Text(r->region), r->state, Text(r->owner_id),
                          OwnerName(view, r->owner_id), LocalTime(s, r->created_at),
                          LocalTime(s, r->last_follow_up_at), LocalTime(s, r->next_follow_up_at),
                          LocalTime(s, projections::RecycleAt(*r, view.pool().policy())),
                          Text(r->duplicate_of)});
        }
        return page.next_cursor.value_or("");
      }};
}

ExportKind Customers() {
  return {"customers",
          kCustomerFilterParams,
          {"id", "name", "industry", "level", "region", "phone", "address", "owner_id", "owner",
           "in_pool", "locked", "created_at", "last_follow_up_at", "recycle_at"},
          [](const Services& s, const HttpRequest& req, const d::Viewer& v, const ReadView& view,
             const std::string& cursor, Rows& rows) -> Result<std::string> {
            auto f = CustomerFilterFrom(req, view, v);
            auto page = view.customers().ListCustomers(f, VisibleTo(view, v), cursor, kExportPage);
            for (const auto* r : page.items) {
              rows.push_back({r->id, r->name, Text(r->industry), Text(r->level), Text(r->region),
                              Text(r->phone), Text(r->address), Text(r->owner_id),
                              OwnerName(view, r->owner_id),
                              std::string(r->owner_id.empty() ? "true" : "false"),
                              std::string(r->locked ? "true" : "false"),
                              LocalTime(s, r->created_at), LocalTime(s, r->last_follow_up_at),
                              LocalTime(s, projections::RecycleAt(*r, view.pool().policy()))});
            }
            return page.next_cursor.value_or("");
          }};
}

// Receivables (应收): one row per installment not fully paid, as GET /receivables lists them.
ExportKind Receivables() {
  return {
      "receivables",
      kReceivableFilterParams,
      {"contract_id", "contract_number", "customer_id", "customer", "owner_id", "owner",
       "installment", "due_on", "currency", "amount", "paid", "outstanding", "status",
       "days_overdue"},
      [](const Services& s, const HttpRequest& req, const d::Viewer& v, const ReadView& view,
         const std::string& cursor, Rows& rows) -> Result<std::string> {
        CRM_ASSIGN_OR_RETURN(auto f, ReceivableFilterFrom(req));
        auto page =
            view.customers().ListContracts(f.contracts, VisibleTo(view, v), cursor, kExportPage);
        Date today = Today(s);
        for (const auto* k : page.items) {
          const auto* customer = view.customers().FindCustomer(k->customer_id);
          ForEachReceivable(*k, today, f, [&](const auto& inst, size_t i) {
            rows.push_back(
                {k->id, k->number, k->customer_id, customer ? Text(customer->name) : Cell{},
                 Text(k->owner_id), OwnerName(view, k->owner_id), static_cast<int64_t>(i + 1),
                 FormatDate(FromDays(static_cast<int32_t>(inst.due_on_days))), k->currency,
                 AmountCell(inst.amount, k->currency), AmountCell(inst.paid, k->currency),
                 AmountCell(inst.amount - inst.paid, k->currency), inst.status, inst.days_overdue});
          });
        }
        return page.next_cursor.value_or("");
      }};
}

// Writes the whole export to `table`, a page at a time; the first page's error (a bad
// filter) comes back before anything is written.
Status WriteExport(const Services& s, const HttpRequest& req, const ExportKind& kind,
                   TableWriter& table) {
  std::vector<Cell> header(kind.columns.begin(), kind.columns.end());
  CRM_RETURN_IF_ERROR(table.Row(header));
  std::string cursor;
  Rows rows;
  do {
    rows.clear();
    {
      ReadView view = s.read.Read();
      // Again for each page: a person revoked or departed meanwhile gets no more rows.
      auto v = Authenticate(s, req.authorization, /*use=*/false);
      if (!v.ok()) return v.error();
      CRM_ASSIGN_OR_RETURN(cursor, kind.page(s, req, *v, view, cursor, rows));
    }
    for (const auto& row : rows) CRM_RETURN_IF_ERROR(table.Row(row));
  } while (!cursor.empty());
  return table.Finish();
}

void ExportNow(Services& s, const CallPtr& call, const ExportKind& kind, const std::string& format);

void Export(Services& s, const CallPtr& call, const ExportKind& kind) {
  auto viewer = Authenticate(s, call->req.authorization);
  if (!viewer.ok()) return SendError(call, viewer.error());
  QueryParams accepted = kind.filters;
  accepted.push_back("format");
  if (Status known = RequireKnownParams(call->req, accepted); !known.ok()) {
    return SendError(call, known.error());
  }
  std::string format = OptParam(call->req, "format").value_or("csv");
  if (format != "csv" && format != "xlsx") {
    return SendError(call, InvalidField("format", "must be csv or xlsx"));
  }
  // With min_position, the file holds at least what the log held there (read-your-writes).
  Services* sp = &s;
  AfterMinPosition(s, call, [sp, call, kind, format] { ExportNow(*sp, call, kind, format); });
}

void ExportNow(Services& s, const CallPtr& call, const ExportKind& kind,
               const std::string& format) {
  auto viewer = Authenticate(s, call->req.authorization, /*use=*/false);
  if (!viewer.ok()) return SendError(call, viewer.error());
  // A filter's mistake is answered now, from a first page, before any file is made.
  {
    Rows probe;
    ReadView view = s.read.Read();
    auto first = kind.page(s, call->req, *viewer, view, "", probe);
    if (!first.ok()) return SendError(call, first.error());
  }
  Services* sp = &s;
  bool queued = s.exporter.Submit([sp, call, kind, format] {
    Services& svc = *sp;
    if (svc.exporter.stopping()) return SendError(call, Unavailable("the server is stopping"));
    bool xlsx = format == "xlsx";
    std::string path = svc.exporter.NewPath(xlsx ? ".xlsx" : ".csv");
    auto table = NewTable(xlsx ? ExportFormat::kXlsx : ExportFormat::kCsv, path, kind.name,
                          svc.exporter.dir());
    Status written = table.ok() ? WriteExport(svc, call->req, kind, **table) : table.error();
    if (!written.ok()) {
      std::remove(path.c_str());
      return SendError(call, written.error());
    }
    HttpResponse r;
    r.file = path;
    r.content_type = xlsx ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                          : "text/csv; charset=utf-8";
    std::string day = FormatDate(Today(svc));
    r.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + kind.name + "-" +
                                                      day + (xlsx ? ".xlsx\"" : ".csv\""));
    r.headers.emplace_back("Cache-Control", "no-store");
    call->respond(std::move(r));
  });
  if (!queued) {
    SendError(call, Unavailable("too many exports are running; try again shortly"),
              {{"Retry-After", "5"}});
  }
}

}  // namespace

void AddExportRoutes(Router& r, Services& s) {
  r.Add("GET", "/api/v1/leads/export",
        [&s, kind = Leads()](const CallPtr& call) { Export(s, call, kind); });
  r.Add("GET", "/api/v1/customers/export",
        [&s, kind = Customers()](const CallPtr& call) { Export(s, call, kind); });
  r.Add("GET", "/api/v1/receivables/export",
        [&s, kind = Receivables()](const CallPtr& call) { Export(s, call, kind); });
}

}  // namespace crm::api
