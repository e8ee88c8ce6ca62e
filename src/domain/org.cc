#include "domain/org.h"

namespace crm::domain {

void OrgTree::AddDepartment(const std::string& id, const std::optional<std::string>& parent_id) {
  parent_[id] = parent_id;
}

void OrgTree::SetStaff(const std::string& staff_id, Role role,
                       const std::optional<std::string>& department_id) {
  staff_[staff_id] = Person{role, department_id};
}

const OrgTree::Person* OrgTree::FindPerson(const std::string& staff_id) const {
  auto it = staff_.find(staff_id);
  return it == staff_.end() ? nullptr : &it->second;
}

std::optional<std::string> OrgTree::DepartmentOf(const std::string& staff_id) const {
  const Person* p = FindPerson(staff_id);
  return p ? p->department_id : std::nullopt;
}

bool OrgTree::InSubtree(const std::string& department, const std::string& root) const {
  // Parents are created before children, so the walk ends; the bound guards the loop
  // against a corrupt tree all the same.
  const std::string* cur = &department;
  for (size_t steps = 0; steps <= parent_.size(); ++steps) {
    if (*cur == root) return true;
    auto it = parent_.find(*cur);
    if (it == parent_.end() || !it->second) return false;
    cur = &*it->second;
  }
  return false;
}

bool SeesEveryone(const Viewer& viewer) {
  return viewer.system || viewer.role == Role::kAdmin || viewer.role == Role::kFinance ||
         viewer.role == Role::kAuditor;
}

bool CanSee(const OrgTree& org, const Viewer& viewer, const std::optional<std::string>& owner) {
  if (SeesEveryone(viewer) || !owner) return true;  // the pool is everyone's to see
  if (viewer.role == Role::kManager) return Manages(org, viewer, *owner);
  return *owner == viewer.id;  // sales
}

bool Manages(const OrgTree& org, const Viewer& viewer, const std::string& staff_id) {
  if (viewer.system || viewer.role == Role::kAdmin) return true;
  if (viewer.role != Role::kManager) return false;
  if (staff_id == viewer.id) return true;
  if (!viewer.department_id) return false;
  auto dept = org.DepartmentOf(staff_id);
  return dept && org.InSubtree(*dept, *viewer.department_id);
}

bool HasPowerOver(const OrgTree& org, const Viewer& viewer, const std::string& staff_id) {
  if (viewer.system || viewer.role == Role::kAdmin) return true;
  if (viewer.role != Role::kManager || !viewer.department_id) return false;
  const OrgTree::Person* person = org.FindPerson(staff_id);
  if (!person || !person->department_id) return false;
  const std::string& dept = *person->department_id;
  switch (person->role) {
    case Role::kSales:
      return org.InSubtree(dept, *viewer.department_id);
    case Role::kManager:
      return dept != *viewer.department_id && org.InSubtree(dept, *viewer.department_id);
    case Role::kAdmin:
    case Role::kFinance:
    case Role::kAuditor:
      return false;
  }
  return false;
}

}  // namespace crm::domain
