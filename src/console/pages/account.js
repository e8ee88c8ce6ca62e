// The account: who is signed in, changing one's own password, signing out.
import {h, pageHeader, section, input, field, alertBox, showOk, wireForm, facts} from './_shared.js';
import {newPasswordFields, checkNewPassword} from './_password.js';
import {t, tEnum, fmtDateTime} from '../i18n.js';
import {put, me, getSession, signOut} from '../api.js';
import * as live from '../live.js';

export function render(root) {
  const staff = me();
  const session = getSession();
  const box = alertBox();
  const form = h('form', {class: 'form', id: 'password-form', 'data-form': 'password'},
    h('div', {class: 'form-grid'},
      field(t('account.current'), input('current_password', {type: 'password', autocomplete: 'current-password'}), {required: true}),
      ...newPasswordFields()),
    box,
    h('div', {class: 'form-actions'}, h('button', {type: 'submit', class: 'btn btn-primary'}, t('account.change'))));
  wireForm(form, box, (v, key) => put(`/staff/${encodeURIComponent(staff.id)}/password`,
    {password: checkNewPassword(v), current_password: v.current_password}, {key}),
  {onDone: () => { form.reset(); showOk(box, t('account.changed')); }});
  root.append(pageHeader(t('page.account'), null,
    h('button', {type: 'button', class: 'btn', onclick: async () => { live.stop(); await signOut(); location.hash = '#/signin'; }}, t('shell.signOut'))),
  h('div', {class: 'grid-2'},
    section(t('account.me'), facts([[t('common.name'), staff.name], [t('account.role'), tEnum('role', staff.role)],
      [t('account.id'), h('span', {class: 'mono'}, staff.id)],
      [t('account.expires'), session && session.expires_at ? fmtDateTime(session.expires_at) : null]])),
    section(t('account.password'), form)));
}
