// Departments and staff, and the org tree that data permission follows.
#ifndef CRM_PROJECTIONS_ORG_PROJECTION_H_
#define CRM_PROJECTIONS_ORG_PROJECTION_H_

#include <map>
#include <optional>
#include <set>

#include "domain/org.h"
#include "projections/projection.h"
#include "projections/row_map.h"
#include "schemas/views_generated.h"

namespace crm::projections {

class OrgProjection final : public Projection {
 public:
  OrgProjection();
  std::string_view name() const override { return "org"; }
  void Apply(const eventstore::RecordedEvent& event, Topics& touched) override;
  void Flush(LocalBatch& batch) override;
  Status Load(const LocalStore& store) override;
  void Clear() override;

  const domain::OrgTree& tree() const { return tree_; }
  const views::StaffRowT* FindStaff(const std::string& id) const { return staff_.Find(id); }
  const views::DepartmentRowT* FindDepartment(const std::string& id) const {
    return departments_.Find(id);
  }
  const std::map<std::string, views::StaffRowT>& staff() const { return staff_.rows(); }
  const std::map<std::string, views::DepartmentRowT>& departments() const {
    return departments_.rows();
  }
  // The staff member with `email` (compared as domain::EmailKey does); nullptr when none.
  const views::StaffRowT* FindStaffByEmail(std::string_view email) const;
  // The viewer for a staff member; nullopt when unknown.
  std::optional<domain::Viewer> ViewerOf(const std::string& staff_id) const;

  // People's own tasks (提醒): one, and the open ones of a person.
  const views::TaskRowT* FindTask(const std::string& id) const { return tasks_.Find(id); }
  const std::set<std::string>& OpenTasksOf(const std::string& staff_id) const;

 private:
  RowMap<views::DepartmentRowT> departments_;
  RowMap<views::StaffRowT> staff_;
  domain::OrgTree tree_;
  std::map<std::string, std::string, std::less<>> by_email_;  // EmailKey → staff id
  RowMap<views::TaskRowT> tasks_;
  std::map<std::string, std::set<std::string>> open_tasks_;  // owner → tasks not done
};

}  // namespace crm::projections

#endif  // CRM_PROJECTIONS_ORG_PROJECTION_H_
