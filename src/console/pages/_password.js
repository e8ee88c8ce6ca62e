// A new sign-in password, as the account page (one's own) and the organisation page (an
// admin setting someone's, or a new person's first) ask for it: the password and the
// same again, checked the way the server checks it before anything is sent.
import {field, input, FormInvalid} from './_shared.js';
import {t} from '../i18n.js';

// The server's bounds, counted in characters (code points, so "密码" is two, and an
// emoji one): no minlength/maxlength on the inputs, which count UTF-16 units instead.
const MIN = 12;
const MAX = 200;

// The two fields, named `password` and `password_again`. Optional ones (`required:
// false`) ask for nothing until a password is typed.
export function newPasswordFields({label = t('account.new'), repeatLabel = t('account.repeat'), required = true} = {}) {
  return [
    field(label, input('password', {type: 'password', autocomplete: 'new-password'}), {required, hint: t('account.rule')}),
    field(repeatLabel, input('password_again', {type: 'password', autocomplete: 'new-password'}), {required}),
  ];
}

// The new password among a form's values (formValues: as typed, absent when empty);
// undefined when neither field was filled. Throws FormInvalid naming the field at fault:
// the password itself first, the repeat once the password is fine.
export function checkNewPassword(v) {
  if (v.password === undefined && v.password_again === undefined) return undefined;
  const n = [...(v.password || '')].length;
  const fault = n === 0 ? ['password', t('form.required')]
    : n < MIN ? ['password', t('account.tooShort', {min: MIN, n})]
      : n > MAX ? ['password', t('account.tooLong', {max: MAX, n})]
        : v.password !== v.password_again ? ['password_again', t('account.mismatch')] : null;
  if (fault) throw new FormInvalid([fault]);
  return v.password;
}
