#include "projections/org_projection.h"

#include "domain/model.h"
#include "domain/overloaded.h"
#include "projections/view_util.h"

namespace crm::projections {

namespace d = crm::domain;

OrgProjection::OrgProjection()
    : departments_("org/department/"), staff_("org/staff/"), tasks_("org/task/") {}

void OrgProjection::Apply(const eventstore::RecordedEvent& ev, Topics& touched) {
  std::visit(overloaded{
                 [&](const d::DepartmentCreated& e) {
                   auto& row = departments_.Edit(e.department_id);
                   row.id = e.department_id;
                   row.name = e.name;
                   row.parent_id = e.parent_id.value_or("");
                   row.created_at = ToMillis(ev.at);
                   row.position = ev.position;
                   row.version = ev.version;
                   tree_.AddDepartment(e.department_id, e.parent_id);
                   touched.insert("org");
                 },
                 [&](const d::DepartmentEdited& e) {
                   auto* row = departments_.EditExisting(ev.stream);
                   if (!row) return;
                   SetEdited(e.changes, "name", row->name);
                   SetEdited(e.changes, "parent_id", row->parent_id);
                   row->version = ev.version;
                   tree_.AddDepartment(row->id, NonEmpty(row->parent_id));
                   touched.insert("org");
                 },
                 [&](const d::StaffEdited& e) {
                   auto* row = staff_.EditExisting(ev.stream);
                   if (!row) return;
                   if (d::ChangeOf(e.changes, "email")) by_email_.erase(d::EmailKey(row->email));
                   SetEdited(e.changes, "name", row->name);
                   SetEdited(e.changes, "email", row->email);
                   SetEdited(e.changes, "role", row->role);
                   SetEdited(e.changes, "department_id", row->department_id);
                   SetEdited(e.changes, "region", row->region);
                   row->version = ev.version;
                   by_email_[d::EmailKey(row->email)] = row->id;
                   tree_.SetStaff(row->id, d::ParseRole(row->role).value_or(d::Role::kSales),
                                  NonEmpty(row->department_id));
                   touched.insert("org");
                 },
                 [&](const d::StaffCreated& e) {
                   auto& row = staff_.Edit(e.staff_id);
                   row.id = e.staff_id;
                   row.name = e.name;
                   row.email = e.email;
                   row.role = std::string(d::Name(e.role));
                   row.department_id = e.department_id.value_or("");
                   row.region = e.region.value_or("");
                   row.created_at = ToMillis(ev.at);
                   row.version = ev.version;
                   row.position = ev.position;
                   tree_.SetStaff(e.staff_id, e.role, e.department_id);
                   by_email_[d::EmailKey(e.email)] = e.staff_id;
                   touched.insert("org");
                 },
                 [&](const d::TaskCreated& e) {
                   auto& row = tasks_.Edit(e.task_id);
                   row.id = e.task_id;
                   row.version = ev.version;
                   row.owner_id = e.owner_id;
                   row.title = e.title;
                   row.due_at = ToMillis(e.due_at);
                   row.record_id = OrEmpty(e.record_id);
                   row.created_at = ToMillis(ev.at);
                   open_tasks_[row.owner_id].insert(row.id);
                   touched.insert("tasks");
                 },
                 [&](const d::TaskCompleted&) {
                   auto* row = tasks_.EditExisting(ev.stream);
                   if (!row) return;
                   row->done = true;
                   row->done_at = ToMillis(ev.at);
                   row->version = ev.version;
                   if (auto it = open_tasks_.find(row->owner_id); it != open_tasks_.end()) {
                     it->second.erase(row->id);
                     if (it->second.empty()) open_tasks_.erase(it);
                   }
                   touched.insert("tasks");
                 },
                 [&](const d::StaffDeparted& e) {
                   if (auto* row = staff_.EditExisting(e.staff_id)) {
                     row->departed = true;
                     row->departed_at = ToMillis(ev.at);
                     row->version = ev.version;
                   }
                   touched.insert("org");
                 },
                 [&](const d::HandoverCompleted& e) {
                   if (auto* row = staff_.EditExisting(e.staff_id)) row->version = ev.version;
                 },
                 [&](const d::PasswordSet& e) {
                   if (auto* row = staff_.EditExisting(e.staff_id)) row->version = ev.version;
                 },
                 [](const auto&) {},
             },
             ev.event);
}

void OrgProjection::Flush(LocalBatch& batch) {
  departments_.Flush(batch);
  staff_.Flush(batch);
  tasks_.Flush(batch);
}

Status OrgProjection::Load(const LocalStore& store) {
  CRM_RETURN_IF_ERROR(departments_.Load(store));
  CRM_RETURN_IF_ERROR(staff_.Load(store));
  CRM_RETURN_IF_ERROR(tasks_.Load(store));
  open_tasks_.clear();
  for (const auto& [id, row] : tasks_.rows()) {
    if (!row.done) open_tasks_[row.owner_id].insert(id);
  }
  tree_ = d::OrgTree();
  by_email_.clear();
  for (const auto& [id, row] : departments_.rows())
    tree_.AddDepartment(id, NonEmpty(row.parent_id));
  for (const auto& [id, row] : staff_.rows()) {
    tree_.SetStaff(id, d::ParseRole(row.role).value_or(d::Role::kSales),
                   NonEmpty(row.department_id));
    by_email_[d::EmailKey(row.email)] = id;
  }
  return Status::Ok();
}

void OrgProjection::Clear() {
  departments_.Clear();
  staff_.Clear();
  tasks_.Clear();
  open_tasks_.clear();
  tree_ = d::OrgTree();
  by_email_.clear();
}

const std::set<std::string>& OrgProjection::OpenTasksOf(const std::string& staff_id) const {
  static const std::set<std::string> kNone;
  auto it = open_tasks_.find(staff_id);
  return it == open_tasks_.end() ? kNone : it->second;
}

const views::StaffRowT* OrgProjection::FindStaffByEmail(std::string_view email) const {
  auto it = by_email_.find(d::EmailKey(email));
  return it == by_email_.end() ? nullptr : staff_.Find(it->second);
}

std::optional<d::Viewer> OrgProjection::ViewerOf(const std::string& staff_id) const {
  const views::StaffRowT* row = staff_.Find(staff_id);
  if (!row) return std::nullopt;
  auto role = d::ParseRole(row->role);
  if (!role) return std::nullopt;
  return d::Viewer{row->id, *role, NonEmpty(row->department_id), false};
}

}  // namespace crm::projections
