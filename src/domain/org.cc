#include "domain/org.h"

namespace crm::domain {

void OrgTree::AddDepartment(const std::string& id, const std::optional<std::string>& parent_id) {
  parent_[id] = parent_id;
}

void OrgTree::SetStaffDepartment(const std::string& staff_id,
                                 const std::optional<std::string>& department_id) {
  department_of_[staff_id] = department_id;
}

std::optional<std::string> OrgTree::DepartmentOf(const std::string& staff_id) const {
  auto it = department_of_.find(staff_id);
  return it == department_of_.end() ? std::nullopt : it->second;
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

bool CanSee(const OrgTree& org, const Viewer& viewer, const std::optional<std::string>& owner) {
  if (viewer.system) return true;
  switch (viewer.role) {
    case Role::kAdmin:
    case Role::kFinance:
    case Role::kAuditor:
      return true;
    case Role::kManager:
      return !owner || Manages(org, viewer, *owner);
    case Role::kSales:
      return !owner || *owner == viewer.id;
  }
  return false;
}

bool Manages(const OrgTree& org, const Viewer& viewer, const std::string& staff_id) {
  if (viewer.system || viewer.role == Role::kAdmin) return true;
  if (viewer.role != Role::kManager) return false;
  if (staff_id == viewer.id) return true;
  if (!viewer.department_id) return false;
  auto dept = org.DepartmentOf(staff_id);
  return dept && org.InSubtree(*dept, *viewer.department_id);
}

}  // namespace crm::domain
