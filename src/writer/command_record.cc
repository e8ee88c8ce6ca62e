#include "writer/command_record.h"

#include <flatbuffers/flatbuffers.h>

#include "domain/overloaded.h"
#include "eventstore/coding.h"
#include "schemas/writer_generated.h"

namespace crm::writer {

namespace s = crm::schema;
namespace d = crm::domain;

namespace {

constexpr size_t kHashSize = 32;

flatbuffers::Offset<flatbuffers::String> Str(flatbuffers::FlatBufferBuilder& fbb,
                                             const std::optional<std::string>& v) {
  return v ? fbb.CreateString(*v) : 0;
}

std::string Str(const flatbuffers::String* v) { return v ? v->str() : std::string(); }
std::optional<std::string> Opt(const flatbuffers::String* v) {
  return v ? std::optional<std::string>(v->str()) : std::nullopt;
}

}  // namespace

std::string EncodeCommandRecord(std::string_view request_hash, const CommandResult& r) {
  flatbuffers::FlatBufferBuilder fbb(256);
  auto [type, outcome] = std::visit(
      overloaded{
          [&](const std::monostate&) {
            return std::pair{s::CommandOutcome::NONE, flatbuffers::Offset<void>()};
          },
          [&](const d::ConversionOutcome& o) {
            return std::pair{
                s::CommandOutcome::ConversionResult,
                s::CreateConversionResult(fbb, fbb.CreateString(o.customer_id), o.customer_created,
                                          Str(fbb, o.contact_id), Str(fbb, o.opportunity_id))
                    .Union()};
          },
          [&](const d::HandoverOutcome& o) {
            return std::pair{
                s::CommandOutcome::HandoverResult,
                s::CreateHandoverResult(fbb, o.leads, o.customers, o.opportunities, o.contracts)
                    .Union()};
          },
          [&](const d::AutoAssignOutcome& o) {
            std::vector<flatbuffers::Offset<s::AssignmentResult>> assignments;
            for (const auto& a : o.assignments) {
              assignments.push_back(s::CreateAssignmentResult(fbb, fbb.CreateString(a.lead_id),
                                                              fbb.CreateString(a.owner_id)));
            }
            auto av = fbb.CreateVector(assignments);
            auto uv = fbb.CreateVectorOfStrings(o.unassigned);
            return std::pair{s::CommandOutcome::AutoAssignResult,
                             s::CreateAutoAssignResult(fbb, av, uv).Union()};
          },
          [&](const d::RecycleOutcome& o) {
            return std::pair{s::CommandOutcome::RecycleResult,
                             s::CreateRecycleResult(fbb, o.leads, o.customers, o.more).Union()};
          },
          [&](const d::ImportOutcome& o) {
            std::vector<flatbuffers::Offset<s::ImportRowResult>> rows;
            for (const auto& row : o.rows) {
              const Error* e = row.refusal ? &*row.refusal : nullptr;
              std::vector<flatbuffers::Offset<s::RowError>> fields;
              if (e) {
                for (const auto& f : e->fields) {
                  fields.push_back(s::CreateRowError(fbb, fbb.CreateString(f.field),
                                                     fbb.CreateString(f.message)));
                }
              }
              rows.push_back(s::CreateImportRowResult(
                  fbb, Str(fbb, row.created), Str(fbb, row.duplicate_of), e != nullptr,
                  e ? static_cast<int32_t>(e->kind) : 0, e ? fbb.CreateString(e->code) : 0,
                  e ? fbb.CreateString(e->detail) : 0, e ? fbb.CreateVector(fields) : 0));
            }
            auto rv = fbb.CreateVector(rows);
            return std::pair{s::CommandOutcome::ImportResult,
                             s::CreateImportResult(fbb, rv, o.created).Union()};
          },
      },
      r.outcome);
  std::vector<flatbuffers::Offset<s::StreamVersion>> versions;
  for (const auto& [stream, version] : r.versions) {
    versions.push_back(s::CreateStreamVersion(fbb, fbb.CreateString(stream), version));
  }
  auto vv = fbb.CreateVector(versions);
  auto primary = fbb.CreateString(r.primary);
  auto created = Str(fbb, r.created);
  fbb.Finish(s::CreateCommandResult(fbb, primary, r.primary_version, created, r.first_position,
                                    r.last_position, ToMillis(r.at), type, outcome, vv),
             s::CommandResultIdentifier());
  std::string out(request_hash);
  out.append(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
  return out;
}

Result<CommandRecord> DecodeCommandRecord(std::string_view bytes) {
  if (bytes.size() < kHashSize) return Internal("an idempotency record is truncated");
  eventstore::AlignedBytes aligned(bytes.substr(kHashSize));
  flatbuffers::Verifier verifier(aligned.data(), aligned.size());
  if (!s::VerifyCommandResultBuffer(verifier)) return Internal("an idempotency record is corrupt");
  const s::CommandResult* fb = s::GetCommandResult(aligned.data());
  CommandRecord out;
  out.request_hash = std::string(bytes.substr(0, kHashSize));
  CommandResult& r = out.result;
  r.primary = Str(fb->primary());
  r.primary_version = fb->primary_version();
  r.created = Opt(fb->created());
  r.first_position = fb->first_position();
  r.last_position = fb->last_position();
  r.at = FromMillis(fb->at_ms());
  if (fb->versions()) {
    for (const auto* v : *fb->versions()) r.versions.emplace_back(Str(v->stream()), v->version());
  }
  switch (fb->outcome_type()) {
    case s::CommandOutcome::NONE:
      break;
    case s::CommandOutcome::ConversionResult: {
      auto o = fb->outcome_as_ConversionResult();
      r.outcome = d::ConversionOutcome{Str(o->customer_id()), o->customer_created(),
                                       Opt(o->contact_id()), Opt(o->opportunity_id())};
      break;
    }
    case s::CommandOutcome::HandoverResult: {
      auto o = fb->outcome_as_HandoverResult();
      r.outcome =
          d::HandoverOutcome{o->leads(), o->customers(), o->opportunities(), o->contracts()};
      break;
    }
    case s::CommandOutcome::AutoAssignResult: {
      auto o = fb->outcome_as_AutoAssignResult();
      d::AutoAssignOutcome a;
      if (o->assignments()) {
        for (const auto* x : *o->assignments())
          a.assignments.push_back({Str(x->lead_id()), Str(x->owner_id())});
      }
      if (o->unassigned()) {
        for (const auto* x : *o->unassigned()) a.unassigned.push_back(x->str());
      }
      r.outcome = std::move(a);
      break;
    }
    case s::CommandOutcome::RecycleResult: {
      auto o = fb->outcome_as_RecycleResult();
      r.outcome = d::RecycleOutcome{o->leads(), o->customers(), o->more()};
      break;
    }
    case s::CommandOutcome::ImportResult: {
      auto o = fb->outcome_as_ImportResult();
      d::ImportOutcome imported;
      imported.created = o->created();
      if (o->rows()) {
        for (const auto* x : *o->rows()) {
          d::ImportRowOutcome row{Opt(x->created()), Opt(x->duplicate_of()), std::nullopt};
          if (x->refused()) {
            Error e = MakeError(static_cast<ErrorKind>(x->refusal_kind()), Str(x->refusal_code()),
                                Str(x->refusal_detail()));
            if (x->refusal_fields()) {
              for (const auto* f : *x->refusal_fields())
                e.fields.push_back({Str(f->field()), Str(f->message())});
            }
            row.refusal = std::move(e);
          }
          imported.rows.push_back(std::move(row));
        }
      }
      r.outcome = std::move(imported);
      break;
    }
  }
  return out;
}

bool CommandRecordExpired(std::string_view bytes, Time now, Seconds ttl) {
  // Only the time is read: the compaction filter calls this for every record it meets.
  if (bytes.size() < kHashSize) return false;
  eventstore::AlignedBytes aligned(bytes.substr(kHashSize));
  flatbuffers::Verifier verifier(aligned.data(), aligned.size());
  if (!s::VerifyCommandResultBuffer(verifier)) return false;
  return FromMillis(s::GetCommandResult(aligned.data())->at_ms()) + ttl < now;
}

}  // namespace crm::writer
