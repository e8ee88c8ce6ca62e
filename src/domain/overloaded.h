#ifndef CRM_DOMAIN_OVERLOADED_H_
#define CRM_DOMAIN_OVERLOADED_H_

namespace crm {

// Builds a visitor for std::visit from lambdas.
template <class... Ts>
struct overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
overloaded(Ts...) -> overloaded<Ts...>;

}  // namespace crm

#endif  // CRM_DOMAIN_OVERLOADED_H_
