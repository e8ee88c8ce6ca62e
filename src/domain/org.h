// The org tree and the data-permission rule that follows it. Shared by the write side
// (domain decisions) and the read side (query filtering), so both apply one rule.
#ifndef CRM_DOMAIN_ORG_H_
#define CRM_DOMAIN_ORG_H_

#include <optional>
#include <string>
#include <unordered_map>

#include "domain/vocabulary.h"

namespace crm::domain {

// Who is looking or acting.
struct Viewer {
  std::string id;
  Role role = Role::kSales;
  std::optional<std::string> department_id;
  bool system = false;  // the server's own jobs
};

// Departments with their parents, and the role and department of each staff member.
class OrgTree {
 public:
  struct Person {
    Role role = Role::kSales;
    std::optional<std::string> department_id;
    bool operator==(const Person&) const = default;
  };

  void AddDepartment(const std::string& id, const std::optional<std::string>& parent_id);
  void SetStaff(const std::string& staff_id, Role role,
                const std::optional<std::string>& department_id);

  bool HasDepartment(const std::string& id) const { return parent_.count(id) > 0; }
  std::optional<std::string> DepartmentOf(const std::string& staff_id) const;
  const Person* FindPerson(const std::string& staff_id) const;
  // True when `department` is `root` or lies below it.
  bool InSubtree(const std::string& department, const std::string& root) const;

  bool operator==(const OrgTree&) const = default;

 private:
  std::unordered_map<std::string, std::optional<std::string>> parent_;
  std::unordered_map<std::string, Person> staff_;
};

// Whether `viewer` may see a record owned by `owner` (nullopt: in the pool, or nobody's).
// sales: their own and the pool; manager: owners in their department subtree and the
// pool; finance, auditor, admin: everything.
bool CanSee(const OrgTree& org, const Viewer& viewer, const std::optional<std::string>& owner);
// Whether `viewer` sees every owner's records (finance, auditor, admin, the system).
bool SeesEveryone(const Viewer& viewer);

// Whether `viewer` manages `staff_id` for the records that person owns (seeing them,
// assigning to them): an admin manages everyone; a manager manages the people in their
// department subtree, themselves included.
bool Manages(const OrgTree& org, const Viewer& viewer, const std::string& staff_id);

// Whether `viewer` has powers over the person `staff_id` themself (their portfolio, their
// handover, their departure, their targets): an admin over everyone; a manager over the
// sales staff of their department subtree and the managers of departments strictly below
// theirs; never over an admin, finance or auditor, another manager of their own
// department, themself, or anyone outside their subtree. (API.md, after Opportunities.)
bool HasPowerOver(const OrgTree& org, const Viewer& viewer, const std::string& staff_id);

}  // namespace crm::domain

#endif  // CRM_DOMAIN_ORG_H_
