#include "writer/model_snapshot.h"

#include <fcntl.h>
#include <flatbuffers/flatbuffers.h>
#include <openssl/evp.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

#include "eventstore/flat_optional.h"
#include "schemas/model_generated.h"

namespace crm::writer {

namespace d = crm::domain;
namespace fb = flatbuffers;
namespace fs = std::filesystem;
namespace s = crm::snapshot;
using eventstore::FromFlat;
using eventstore::SecondsFromFlat;
using eventstore::ToFlat;

namespace {

constexpr size_t kChunkRecords = 4096;      // records (or ids of holdings) per chunk frame
constexpr size_t kChunkBytes = 16u << 20;   // a chunk goes out once it is this big
constexpr uint32_t kMaxFrame = 256u << 20;  // a longer length is a damaged file
constexpr size_t kFlushBytes = 4u << 20;
constexpr std::string_view kPrefix = "model-";
constexpr std::string_view kSuffix = ".snap";
// Each frame's FlatBuffer carries the identifier of its table.
constexpr const char* kHeaderId = "EVSH";
constexpr const char* kChunkId = "EVSC";
constexpr const char* kTrailerId = "EVST";

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

std::string FileName(uint64_t position) {
  char name[64];
  std::snprintf(name, sizeof name, "model-%020llu.snap", static_cast<unsigned long long>(position));
  return name;
}

// The snapshot files in `dir`, newest (highest position) first.
class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new(), &EVP_MD_CTX_free) {
    ok_ = ctx_ && EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) == 1;
  }
  void Add(std::string_view bytes) {
    ok_ = ok_ && EVP_DigestUpdate(ctx_.get(), bytes.data(), bytes.size()) == 1;
  }
  std::optional<std::string> Finish() {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    if (!ok_ || EVP_DigestFinal_ex(ctx_.get(), out, &len) != 1) return std::nullopt;
    return std::string(reinterpret_cast<const char*>(out), len);
  }

 private:
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx_;
  bool ok_ = false;
};

std::string LengthPrefix(size_t size) {
  std::string out(4, '\0');
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((size >> (8 * i)) & 0xff);
  return out;
}

// Frames written to a file descriptor, summed as they go.
class FrameWriter {
 public:
  explicit FrameWriter(int fd) : fd_(fd) {}

  // Adds a frame; all but the trailer go into the sum.
  Status Add(const fb::FlatBufferBuilder& fbb, bool summed = true) {
    std::string_view frame(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
    if (frame.size() > kMaxFrame) return Internal("a model snapshot frame is over its limit");
    std::string prefix = LengthPrefix(frame.size());
    if (summed) {
      sum_.Add(prefix);
      sum_.Add(frame);
    }
    pending_ += prefix;
    pending_ += frame;
    return pending_.size() >= kFlushBytes ? Flush() : Status::Ok();
  }
  std::optional<std::string> Sum() { return sum_.Finish(); }

  Status Flush() {
    size_t done = 0;
    while (done < pending_.size()) {
      ssize_t n = ::write(fd_, pending_.data() + done, pending_.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Internal(Errno("cannot write a model snapshot"));
      done += static_cast<size_t>(n);
    }
    pending_.clear();
    return Status::Ok();
  }

 private:
  int fd_;
  Sha256 sum_;
  std::string pending_;
};

// ---- encoding --------------------------------------------------------------------------

fb::Offset<fb::String> Str(fb::FlatBufferBuilder& b, const std::optional<std::string>& v) {
  return v ? b.CreateString(*v) : 0;
}

fb::Offset<s::Ownership> EncodeOwnership(fb::FlatBufferBuilder& b, const d::Ownership& o) {
  std::vector<fb::Offset<s::LostAt>> lost;
  for (const auto& [id, at] : o.lost_at)
    lost.push_back(s::CreateLostAt(b, b.CreateString(id), ToMillis(at)));
  fb::Optional<int64_t> follow_up = fb::nullopt;
  if (o.last_follow_up_at) follow_up = ToMillis(*o.last_follow_up_at);
  return s::CreateOwnership(b, Str(b, o.owner_id), ToMillis(o.owned_since), follow_up,
                            b.CreateVector(lost));
}

fb::Offset<fb::Vector<fb::Offset<fb::String>>> Ids(fb::FlatBufferBuilder& b,
                                                   const std::vector<std::string>& ids) {
  return b.CreateVectorOfStrings(ids);
}
// One chunk frame under construction: the records added since the last flush, per map.
struct ChunkBuilder {
  fb::FlatBufferBuilder b{1 << 20};
  std::vector<fb::Offset<s::Department>> departments;
  std::vector<fb::Offset<s::Staff>> staff;
  std::vector<fb::Offset<s::Key>> staff_by_email;
  std::vector<fb::Offset<s::Lead>> leads;
  std::vector<fb::Offset<s::Customer>> customers;
  std::vector<fb::Offset<s::Opportunity>> opportunities;
  std::vector<fb::Offset<s::Contract>> contracts;
  std::vector<fb::Offset<s::Key>> customer_by_name;
  std::vector<fb::Offset<s::Key>> contract_by_number;
  std::vector<fb::Offset<s::Holding>> holdings;
  std::vector<fb::Offset<s::Claim>> claims;
  std::vector<fb::Offset<s::Contact>> contacts;
  std::vector<fb::Offset<s::Invoice>> invoices;
  std::vector<fb::Offset<s::Key>> invoice_by_number;
  std::vector<fb::Offset<s::Task>> tasks;
  size_t records = 0;
  uint64_t chunks = 0;
  std::function<bool()> stop;

  template <class T>
  fb::Offset<fb::Vector<fb::Offset<T>>> Vec(std::vector<fb::Offset<T>>& v) {
    auto out = v.empty() ? fb::Offset<fb::Vector<fb::Offset<T>>>() : b.CreateVector(v);
    v.clear();
    return out;
  }

  // After each record (of `weight` ids): a full chunk goes out as a frame.
  Status Counted(FrameWriter& out, size_t weight = 1) {
    records += weight;
    return records >= kChunkRecords || b.GetSize() >= kChunkBytes ? Flush(out) : Status::Ok();
  }

  Status Flush(FrameWriter& out) {
    if (records == 0) return Status::Ok();
    if (stop && stop()) return Unavailable("the snapshot was abandoned");
    auto dv = Vec(departments);
    auto sv = Vec(staff);
    auto ev = Vec(staff_by_email);
    auto lv = Vec(leads);
    auto cv = Vec(customers);
    auto ov = Vec(opportunities);
    auto kv = Vec(contracts);
    auto nv = Vec(customer_by_name);
    auto xv = Vec(contract_by_number);
    auto hv = Vec(holdings);
    auto qv = Vec(claims);
    auto tv = Vec(contacts);
    auto iv = Vec(invoices);
    auto inv = Vec(invoice_by_number);
    auto task = Vec(tasks);
    b.Finish(
        s::CreateSnapshotChunk(b, dv, sv, ev, lv, cv, ov, kv, nv, xv, hv, qv, tv, iv, inv, task),
        kChunkId);
    CRM_RETURN_IF_ERROR(out.Add(b));
    b.Clear();
    records = 0;
    ++chunks;
    return Status::Ok();
  }
};

Status EncodeModel(const d::Model& m, FrameWriter& out, ChunkBuilder& c) {
  auto& b = c.b;
  auto key = [&](const std::string& k, const std::string& id) {
    return s::CreateKey(b, b.CreateString(k), b.CreateString(id));
  };
  for (const auto& [id, dep] : m.departments) {
    c.departments.push_back(s::CreateDepartment(b, b.CreateString(dep.id), b.CreateString(dep.name),
                                                Str(b, dep.parent_id)));
    CRM_RETURN_IF_ERROR(c.Counted(out));
  }
  for (const auto& [id, st] : m.staff) {
    c.staff.push_back(s::CreateStaff(b, b.CreateString(st.id), b.CreateString(st.name),
                                     b.CreateString(st.email), static_cast<uint8_t>(st.role),
                                     Str(b, st.department_id), Str(b, st.region), st.departed));
    CRM_RETURN_IF_ERROR(c.Counted(out));
  }
  for (const auto& [k, id] : m.staff_by_email) {
    c.staff_by_email.push_back(key(k, id));
    CRM_RETURN_IF_ERROR(c.Counted(out));
  }
  for (const auto& [id, l] : m.leads) {
    auto own = EncodeOwnership(b, l.own);
    c.leads.push_back(s::CreateLead(b, b.CreateString(l.id), static_cast<uint8_t>(l.state), own,
                                    b.CreateString(l.company), Str(b, l.region),
                                    b.CreateString(l.name), Str(b, l.phone), Str(b, l.email),
                                    Str(b, l.source), Str(b, l.phone_key), Str(b, l.name_key)));
    CRM_RETURN_IF_ERROR(c.Counted(out));
  }
  for (const auto& [id, cu] : m.customers) {
    auto own = EncodeOwnership(b, cu.own);
    c.customers.push_back(s::CreateCustomer(
        b, b.CreateString(cu.id), b.CreateString(cu.name), b.CreateString(cu.normalized_name), own,
        Str(b, cu.region), cu.locked, cu.has_signed_contract, Ids(b, cu.opportunities),
        Ids(b, cu.contracts), Ids(b, cu.contacts), Str(b, cu.merged_into)));
    CRM_RETURN_IF_ERROR(c.Counted(out));
  }
  for (const auto& [id, o] : m.opportunities) {
    c.opportunities.push_back(s::CreateOpportunity(
        b, b.CreateString(o.id), b.CreateString(o.customer_id), Str(b, o.owner_id),
        static_cast<uint8_t>(o.stage), o.amount, b.CreateString(o.currency), b.CreateString(o.name),
        ToDays(o.expected_close_date)));
    CRM_RETURN_IF_ERROR(c.Counted(out));
  }
  for (const auto& [id, t] : m.contacts) {
    c.contacts.push_back(s::CreateContact(b, b.CreateString(t.id), b.CreateString(t.customer_id),
                                          b.CreateString(t.name), Str(b, t.title), Str(b, t.phone),
                                          Str(b, t.email), t.decision_maker));
    CRM_RETURN_IF_ERROR(c.Counted(out));
  }
  for (const auto& [id, k] : m.contracts) {
    std::vector<s::Installment> plan;
    for (const auto& i : k.installments)
      plan.emplace_back(static_cast<int32_t>(i.due_on.time_since_epoch().count()), i.amount,
                        i.paid);
    std::vector<fb::Offset<s::Payment>> payments;
    for (const auto& p : k.payments) {
      std::vector<s::Allocation> alloc;
      for (const auto& a : p.allocations) alloc.emplace_back(a.installment, a.amount);
      payments.push_back(s::CreatePayment(b, b.CreateString(p.id), p.amount,
                                          b.CreateVectorOfStructs(alloc), p.reversed));
    }
    c.contracts.push_back(s::CreateContract(
        b, b.CreateString(k.id), b.CreateString(k.customer_id), Str(b, k.owner_id),
        b.CreateString(k.signed_by), b.CreateString(k.number), k.amount, b.CreateString(k.currency),
        k.paid, b.CreateVectorOfStructs(plan), b.CreateVector(payments), k.invoiced));
    CRM_RETURN_IF_ERROR(c.Counted(out, 1 + k.payments.size()));
  }
  for (const auto& [id, inv] : m.invoices) {
    c.invoices.push_back(s::CreateInvoice(b, b.CreateString(inv.id),
                                          b.CreateString(inv.contract_id),
                                          b.CreateString(inv.number), inv.amount, inv.voided));
    CRM_RETURN_IF_ERROR(c.Counted(out));
  }
  for (const auto& [k, id] : m.invoice_by_number) {
    c.invoice_by_number.push_back(key(k, id));
    CRM_RETURN_IF_ERROR(c.Counted(out));
  }
  for (const auto& [id, t] : m.tasks) {
    c.tasks.push_back(s::CreateTask(b, b.CreateString(t.id), b.CreateString(t.owner_id), t.done));
    CRM_RETURN_IF_ERROR(c.Counted(out));
  }
  for (const auto& [k, id] : m.customer_by_name) {
    c.customer_by_name.push_back(key(k, id));
    CRM_RETURN_IF_ERROR(c.Counted(out));
  }
  for (const auto& [k, id] : m.contract_by_number) {
    c.contract_by_number.push_back(key(k, id));
    CRM_RETURN_IF_ERROR(c.Counted(out));
  }
  // A person's holdings may be millions of ids: they go in pieces of at most a chunk's
  // worth, which the load merges again.
  for (const auto& [id, h] : m.holdings) {
    auto lead = h.leads.begin();
    auto customer = h.customers.begin();
    do {
      std::vector<fb::Offset<fb::String>> leads, customers;
      for (; lead != h.leads.end() && leads.size() < kChunkRecords; ++lead)
        leads.push_back(b.CreateString(*lead));
      for (; customer != h.customers.end() && leads.size() + customers.size() < kChunkRecords;
           ++customer)
        customers.push_back(b.CreateString(*customer));
      auto lv = b.CreateVector(leads);
      auto cv = b.CreateVector(customers);
      c.holdings.push_back(s::CreateHolding(b, b.CreateString(id), lv, cv));
      CRM_RETURN_IF_ERROR(c.Counted(out, 1 + leads.size() + customers.size()));
    } while (lead != h.leads.end() || customer != h.customers.end());
  }
  for (const auto& [id, day] : m.claims) {
    c.claims.push_back(s::CreateClaim(b, b.CreateString(id),
                                      static_cast<int32_t>(day.day.time_since_epoch().count()),
                                      day.count));
    CRM_RETURN_IF_ERROR(c.Counted(out));
  }
  return c.Flush(out);
}

// ---- decoding --------------------------------------------------------------------------

std::string Str(const fb::String* v) { return v ? v->str() : std::string(); }
std::optional<std::string> Opt(const fb::String* v) {
  return v ? std::optional<std::string>(v->str()) : std::nullopt;
}

template <class T, class F>
void Each(const fb::Vector<fb::Offset<T>>* v, F&& f) {
  if (!v) return;
  for (const T* item : *v) f(*item);
}

template <class C>
void IdsInto(const fb::Vector<fb::Offset<fb::String>>* v, C& out) {
  if (!v) return;
  for (const fb::String* id : *v) out.insert(out.end(), id->str());
}

d::Ownership DecodeOwnership(const s::Ownership* o) {
  d::Ownership own;
  if (!o) return own;
  own.owner_id = Opt(o->owner_id());
  own.owned_since = FromMillis(o->owned_since_ms());
  if (auto f = o->last_follow_up_at_ms()) own.last_follow_up_at = FromMillis(*f);
  Each(o->lost_at(), [&](const s::LostAt& l) {
    own.lost_at.emplace_hint(own.lost_at.end(), Str(l.staff_id()), FromMillis(l.at_ms()));
  });
  return own;
}

template <class Map, class V>
void Append(Map& map, std::string key, V&& value) {
  map.emplace_hint(map.end(), std::move(key), std::forward<V>(value));
}

void DecodeChunk(const s::SnapshotChunk& c, d::Model& m) {
  Each(c.departments(), [&](const s::Department& x) {
    Append(m.departments, Str(x.id()),
           d::Department{Str(x.id()), Str(x.name()), Opt(x.parent_id())});
  });
  Each(c.staff(), [&](const s::Staff& x) {
    Append(
        m.staff, Str(x.id()),
        d::StaffMember{Str(x.id()), Str(x.name()), Str(x.email()), static_cast<d::Role>(x.role()),
                       Opt(x.department_id()), Opt(x.region()), x.departed()});
  });
  Each(c.staff_by_email(),
       [&](const s::Key& x) { Append(m.staff_by_email, Str(x.key()), Str(x.id())); });
  Each(c.leads(), [&](const s::Lead& x) {
    d::LeadRecord l;
    l.id = Str(x.id());
    l.state = static_cast<d::LeadState>(x.state());
    l.own = DecodeOwnership(x.own());
    l.company = Str(x.company());
    l.region = Opt(x.region());
    l.name = Str(x.name());
    l.phone = Opt(x.phone());
    l.email = Opt(x.email());
    l.source = Opt(x.source());
    l.phone_key = Opt(x.phone_key());
    l.name_key = Opt(x.name_key());
    Append(m.leads, l.id, std::move(l));
  });
  Each(c.customers(), [&](const s::Customer& x) {
    d::CustomerRecord cu;
    cu.id = Str(x.id());
    cu.name = Str(x.name());
    cu.normalized_name = Str(x.normalized_name());
    cu.own = DecodeOwnership(x.own());
    cu.region = Opt(x.region());
    cu.locked = x.locked();
    cu.has_signed_contract = x.has_signed_contract();
    IdsInto(x.opportunities(), cu.opportunities);
    IdsInto(x.contracts(), cu.contracts);
    IdsInto(x.contacts(), cu.contacts);
    cu.merged_into = Opt(x.merged_into());
    Append(m.customers, cu.id, std::move(cu));
  });
  Each(c.opportunities(), [&](const s::Opportunity& x) {
    Append(m.opportunities, Str(x.id()),
           d::OpportunityRecord{Str(x.id()), Str(x.customer_id()), Opt(x.owner_id()),
                                static_cast<d::Stage>(x.stage()), x.amount(), Str(x.currency()),
                                Str(x.name()), FromDays(x.expected_close_days())});
  });
  Each(c.contacts(), [&](const s::Contact& x) {
    Append(m.contacts, Str(x.id()),
           d::ContactRecord{Str(x.id()), Str(x.customer_id()), Str(x.name()), Opt(x.title()),
                            Opt(x.phone()), Opt(x.email()), x.decision_maker()});
  });
  Each(c.contracts(), [&](const s::Contract& x) {
    d::ContractRecord k;
    k.id = Str(x.id());
    k.customer_id = Str(x.customer_id());
    k.owner_id = Opt(x.owner_id());
    k.signed_by = Str(x.signed_by());
    k.number = Str(x.number());
    k.amount = x.amount();
    k.currency = Str(x.currency());
    k.paid = x.paid();
    if (x.installments()) {
      for (const s::Installment* i : *x.installments())
        k.installments.push_back(
            {Date(std::chrono::days(i->due_on_days())), i->amount(), i->paid()});
    }
    Each(x.payments(), [&](const s::Payment& p) {
      d::PaymentRecord r{Str(p.id()), p.amount(), {}, p.reversed()};
      if (p.allocations()) {
        for (const s::Allocation* a : *p.allocations())
          r.allocations.push_back({a->installment(), a->amount()});
      }
      k.payments.push_back(std::move(r));
    });
    k.invoiced = x.invoiced();
    Append(m.contracts, k.id, std::move(k));
  });
  Each(c.invoices(), [&](const s::Invoice& x) {
    Append(m.invoices, Str(x.id()),
           d::InvoiceRecord{Str(x.id()), Str(x.contract_id()), Str(x.number()), x.amount(),
                            x.voided()});
  });
  Each(c.invoice_by_number(),
       [&](const s::Key& x) { Append(m.invoice_by_number, Str(x.key()), Str(x.id())); });
  Each(c.tasks(), [&](const s::Task& x) {
    Append(m.tasks, Str(x.id()), d::TaskRecord{Str(x.id()), Str(x.owner_id()), x.done()});
  });
  Each(c.customer_by_name(),
       [&](const s::Key& x) { Append(m.customer_by_name, Str(x.key()), Str(x.id())); });
  Each(c.contract_by_number(),
       [&](const s::Key& x) { Append(m.contract_by_number, Str(x.key()), Str(x.id())); });
  Each(c.holdings(), [&](const s::Holding& x) {
    // A person's holdings may come in several pieces, one after another: merged here.
    auto h = m.holdings.emplace_hint(m.holdings.end(), Str(x.staff_id()), d::Holdings{});
    IdsInto(x.leads(), h->second.leads);
    IdsInto(x.customers(), h->second.customers);
  });
  Each(c.claims(), [&](const s::Claim& x) {
    Append(m.claims, Str(x.staff_id()),
           d::Model::ClaimDay{Date(std::chrono::days(x.day())), x.count()});
  });
}

// Frames read from a file, summed as they go.
class FrameReader {
 public:
  explicit FrameReader(int fd) : fd_(fd) {}

  // The next frame, or nullopt at a clean end of the file.
  Result<std::optional<std::string_view>> Next() {
    std::string prefix(4, '\0');
    CRM_ASSIGN_OR_RETURN(size_t got, ReadFully(prefix.data(), 4));
    if (got == 0) return std::optional<std::string_view>();
    if (got != 4) return Damaged("it ends inside a frame's length");
    uint32_t size = 0;
    for (int i = 0; i < 4; ++i)
      size |= static_cast<uint32_t>(static_cast<uint8_t>(prefix[i])) << (8 * i);
    if (size > kMaxFrame) return Damaged("a frame claims " + std::to_string(size) + " bytes");
    frame_.resize(size);
    CRM_ASSIGN_OR_RETURN(got, ReadFully(frame_.data(), size));
    if (got != size) return Damaged("it ends inside a frame");
    prefix_ = prefix;
    return std::optional<std::string_view>(frame_);
  }
  // Adds the last frame to the sum.
  void Count() {
    sum_.Add(prefix_);
    sum_.Add(frame_);
  }
  std::optional<std::string> Sum() { return sum_.Finish(); }

  static Error Damaged(const std::string& why) {
    return Internal("the snapshot is damaged: " + why);
  }

 private:
  Result<size_t> ReadFully(char* out, size_t size) {
    size_t done = 0;
    while (done < size) {
      ssize_t n = ::read(fd_, out + done, size - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Internal(Errno("cannot read a model snapshot"));
      if (n == 0) break;
      done += static_cast<size_t>(n);
    }
    return done;
  }

  int fd_;
  Sha256 sum_;
  std::string prefix_;
  std::string frame_;
};

template <class T>
const T* Verified(std::string_view frame, const char* id) {
  fb::Verifier v(reinterpret_cast<const uint8_t*>(frame.data()), frame.size());
  if (!v.VerifyBuffer<T>(id)) return nullptr;
  return fb::GetRoot<T>(frame.data());
}

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

Status SyncDirectory(const std::string& dir) {
  Fd d{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (d.fd < 0 || ::fsync(d.fd) != 0) return Internal(Errno("cannot sync " + dir));
  return Status::Ok();
}

}  // namespace

std::vector<std::pair<uint64_t, std::string>> SnapshotFiles(const std::string& dir) {
  std::vector<std::pair<uint64_t, std::string>> files;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.size() != kPrefix.size() + 20 + kSuffix.size() || !name.starts_with(kPrefix) ||
        !name.ends_with(kSuffix)) {
      continue;
    }
    const char* digits = name.data() + kPrefix.size();
    uint64_t position = 0;
    auto [end_of_number, error] = std::from_chars(digits, digits + 20, position);
    if (error != std::errc() || end_of_number != digits + 20) continue;
    files.emplace_back(position, it->path().string());
  }
  std::sort(files.begin(), files.end(), std::greater<>());
  return files;
}

Status WriteModelSnapshot(const std::string& dir, const ModelAt& m,
                          const std::function<bool()>& stop) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Internal("cannot create " + dir + ": " + ec.message());
  const std::string path = dir + "/" + FileName(m.position);
  const std::string tmp = path + ".tmp";
  Fd file{::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)};
  if (file.fd < 0) return Internal(Errno("cannot create " + tmp));
  auto fail = [&](const Error& e) {
    ::unlink(tmp.c_str());
    return e;
  };
  FrameWriter out(file.fd);

  fb::FlatBufferBuilder hb(512);
  const d::PoolPolicy& p = m.model.policy;
  auto hash = hb.CreateVector(reinterpret_cast<const uint8_t*>(m.hash.data()), m.hash.size());
  hb.Finish(s::CreateSnapshotHeader(hb, kModelSnapshotFormat, m.position, hash,
                                    m.model.utc_offset.count(), ToMillis(m.at),
                                    ToFlat(p.recycle_no_follow_up), ToFlat(p.recycle_no_deal),
                                    ToFlat(p.remind_before), ToFlat(p.daily_claim_limit),
                                    ToFlat(p.previous_owner_block), ToFlat(p.max_owned_customers),
                                    ToFlat(p.max_owned_leads)),
            kHeaderId);
  if (Status st = out.Add(hb); !st.ok()) return fail(st.error());

  ChunkBuilder chunks;
  chunks.stop = stop;
  if (Status st = EncodeModel(m.model, out, chunks); !st.ok()) return fail(st.error());
  auto sum = out.Sum();
  if (!sum) return fail(Internal("cannot sum a model snapshot"));
  fb::FlatBufferBuilder tb(128);
  tb.Finish(s::CreateSnapshotTrailer(
                tb, chunks.chunks,
                tb.CreateVector(reinterpret_cast<const uint8_t*>(sum->data()), sum->size())),
            kTrailerId);
  if (Status st = out.Add(tb, false); !st.ok()) return fail(st.error());
  if (Status st = out.Flush(); !st.ok()) return fail(st.error());
  if (::fsync(file.fd) != 0) return fail(Internal(Errno("cannot sync " + tmp)));
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    return fail(Internal(Errno("cannot rename " + tmp)));
  return SyncDirectory(dir);
}

Result<ModelAt> ReadModelSnapshot(const std::string& path, Seconds utc_offset,
                                  const SnapshotCheck& check) {
  Fd file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (file.fd < 0) return Internal(Errno("cannot open " + path));
  FrameReader in(file.fd);

  CRM_ASSIGN_OR_RETURN(auto first, in.Next());
  const s::SnapshotHeader* h = first ? Verified<s::SnapshotHeader>(*first, kHeaderId) : nullptr;
  if (!h) return FrameReader::Damaged("no header");
  if (h->format() != kModelSnapshotFormat) {
    return Internal("the snapshot has format " + std::to_string(h->format()) + ", this server " +
                    std::to_string(kModelSnapshotFormat));
  }
  if (h->utc_offset_s() != utc_offset.count()) {
    return Internal("the snapshot's business day starts at UTC offset " +
                    std::to_string(h->utc_offset_s()) + " s, this server's at " +
                    std::to_string(utc_offset.count()) + " s");
  }
  ModelAt m(utc_offset);
  m.position = h->position();
  if (h->hash()) m.hash.assign(h->hash()->begin(), h->hash()->end());
  if (check) {
    if (std::string why = check(m.position, m.hash); !why.empty()) return Internal(why);
  }
  m.at = FromMillis(h->at_ms());
  d::PoolPolicy& p = m.model.policy;
  p.recycle_no_follow_up = SecondsFromFlat(h->recycle_no_follow_up_s());
  p.recycle_no_deal = SecondsFromFlat(h->recycle_no_deal_s());
  p.remind_before = SecondsFromFlat(h->remind_before_s());
  p.daily_claim_limit = FromFlat(h->daily_claim_limit());
  p.previous_owner_block = SecondsFromFlat(h->previous_owner_block_s());
  p.max_owned_customers = FromFlat(h->max_owned_customers());
  p.max_owned_leads = FromFlat(h->max_owned_leads());

  in.Count();
  uint64_t chunks = 0;
  for (;;) {
    CRM_ASSIGN_OR_RETURN(auto frame, in.Next());
    if (!frame) return FrameReader::Damaged("it ends before its trailer");
    if (const auto* c = Verified<s::SnapshotChunk>(*frame, kChunkId)) {
      DecodeChunk(*c, m.model);
      in.Count();
      ++chunks;
      continue;
    }
    const auto* t = Verified<s::SnapshotTrailer>(*frame, kTrailerId);
    if (!t) return FrameReader::Damaged("a frame is neither a chunk nor the trailer");
    auto sum = in.Sum();
    if (t->chunks() != chunks || !t->sha256() || !sum ||
        std::string_view(reinterpret_cast<const char*>(t->sha256()->data()), t->sha256()->size()) !=
            *sum) {
      return FrameReader::Damaged("its checksum does not match");
    }
    CRM_ASSIGN_OR_RETURN(auto after, in.Next());
    if (after) return FrameReader::Damaged("bytes follow its trailer");
    break;
  }
  for (const auto& [id, dep] : m.model.departments) m.model.org.AddDepartment(id, dep.parent_id);
  for (const auto& [id, st] : m.model.staff) m.model.org.SetStaff(id, st.role, st.department_id);
  d::IndexDerived(m.model);
  return m;
}

Status FoldLog(const eventstore::EventStore& store, ModelAt& m, uint64_t to,
               const std::function<bool()>& stop) {
  to = std::min(to, store.Head());
  while (m.position < to) {
    if (stop && stop()) break;
    CRM_ASSIGN_OR_RETURN(auto events,
                         store.ReadAll(m.position + 1, std::min<uint64_t>(4096, to - m.position)));
    if (events.empty() || events.front().position != m.position + 1) {
      return Internal("the log has no event at position " + std::to_string(m.position + 1) +
                      " below its head " + std::to_string(to));
    }
    for (const auto& e : events) d::Evolve(m.model, e.meta(), e.event);
    m.position = events.back().position;
    m.hash = std::move(events.back().hash);
    m.at = events.back().at;
  }
  return Status::Ok();
}

ModelSnapshots::ModelSnapshots(const eventstore::EventStore& store, Options options)
    : store_(store), options_(std::move(options)) {
  if (!options_.log) options_.log = [](std::string_view) {};
  // What a build left when the server stopped or crashed during it.
  std::error_code ec, removed;
  for (fs::directory_iterator it(options_.dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() == ".tmp") fs::remove(it->path(), removed);
  }
}

ModelSnapshots::~ModelSnapshots() { Stop(); }

void ModelSnapshots::Say(const std::string& line) const { options_.log(line); }

ModelAt ModelSnapshots::Newest() const {
  std::lock_guard<std::mutex> lock(files_mu_);
  for (const auto& [position, path] : SnapshotFiles(options_.dir)) {
    // The header is checked against the log before anything else is read.
    auto usable = [this, named = position](uint64_t at, const std::string& hash) {
      return Unusable(named, at, hash);
    };
    std::optional<Result<ModelAt>> loaded;
    try {
      loaded.emplace(ReadModelSnapshot(path, options_.utc_offset, usable));
    } catch (const std::exception& e) {  // out of memory, say: the log is still there
      loaded.emplace(Internal(std::string("it could not be read: ") + e.what()));
    }
    if (!loaded->ok()) {
      Say("decision-model snapshot " + path + " not used: " + loaded->error().detail);
      continue;
    }
    std::lock_guard<std::mutex> stats_lock(mu_);
    stats_.newest_position = std::max(stats_.newest_position, position);
    return std::move(*loaded).value();
  }
  return ModelAt(options_.utc_offset);
}

std::string ModelSnapshots::Unusable(uint64_t named, uint64_t position,
                                     const std::string& hash) const {
  if (position != named) {
    return "it says position " + std::to_string(position) + ", its name " + std::to_string(named);
  }
  if (uint64_t head = store_.Head(); position > head) {
    return "it is at position " + std::to_string(position) + " and the log ends at " +
           std::to_string(head) + " (a log restored from an older copy?)";
  }
  if (position == 0) return "it is at position 0";
  auto at = store_.ReadAll(position, 1);
  if (!at.ok()) return "the log cannot be read: " + at.error().detail;
  if (at->empty() || (*at)[0].hash != hash) {
    return "the log's chain hash at position " + std::to_string(position) +
           " differs: the snapshot is of another log";
  }
  return "";
}

Status ModelSnapshots::BuildNow() { return Build(1); }

Status ModelSnapshots::Build(uint64_t min_events) {
  std::lock_guard<std::mutex> one_at_a_time(build_mu_);
  const auto started = std::chrono::steady_clock::now();
  const uint64_t head = store_.Head();
  ModelAt m = Newest();
  if (head < m.position + std::max<uint64_t>(min_events, 1)) return Status::Ok();
  const uint64_t from = m.position;
  CRM_RETURN_IF_ERROR(FoldLog(store_, m, head, [this] { return abandon_.load(); }));
  if (abandon_) return Status::Ok();
  Status written = WriteModelSnapshot(options_.dir, m, [this] { return abandon_.load(); });
  if (abandon_) return Status::Ok();
  CRM_RETURN_IF_ERROR(written);
  {
    // Kept: the new one and the one it was built from. Any other is older, or one that
    // Newest() passed over (of another log, ahead of this one, damaged).
    std::lock_guard<std::mutex> lock(files_mu_);
    std::error_code ec;
    for (const auto& [position, path] : SnapshotFiles(options_.dir)) {
      if (position != m.position && (position != from || from == 0)) fs::remove(path, ec);
    }
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.newest_position = m.position;
    ++stats_.written;
    stats_.last_build_seconds = seconds;
  }
  char line[160];
  std::snprintf(line, sizeof line, "decision-model snapshot at position %llu (from %llu, %.1f s)",
                static_cast<unsigned long long>(m.position), static_cast<unsigned long long>(from),
                seconds);
  Say(line);
  return Status::Ok();
}

void ModelSnapshots::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "crm-snapshots");  // for top, perf and gdb
    // Below the writer, the read models and the HTTP threads: it is never in a hurry.
    setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), 10);
    Loop();
  });
}

void ModelSnapshots::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  auto wait = std::chrono::seconds(2);
  while (!cv_.wait_for(lock, wait, [this] { return stopping_; })) {
    wait = std::chrono::seconds(2);
    if (options_.every == 0 || store_.Head() < stats_.newest_position + options_.every) continue;
    lock.unlock();
    Status built = Status::Ok();
    try {
      built = Build(options_.every);
    } catch (const std::exception& e) {  // out of memory, say: the server goes on without
      built = Internal(std::string("the build threw: ") + e.what());
    }
    lock.lock();
    if (!built.ok()) {
      ++stats_.failed;
      stats_.last_error = built.error().detail;
      Say("decision-model snapshot failed, next try in a minute: " + built.error().detail);
      wait = std::chrono::minutes(1);
    }
  }
}

void ModelSnapshots::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  abandon_ = true;
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

SnapshotStats ModelSnapshots::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

}  // namespace crm::writer
