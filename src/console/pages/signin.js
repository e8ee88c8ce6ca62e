// Sign-in: email and password → a session token; then the role's home page.
import {h} from '../dom.js';
import {t, lang, setLang} from '../i18n.js';
import {signIn, ApiError} from '../api.js';
import {alertBox, field, input, wireForm, clear, showError} from './_shared.js';

export function render(root, {homeFor}) {
  const box = alertBox();
  const email = input('email', {type: 'email', autocomplete: 'username', required: true, autofocus: true, inputmode: 'email'});
  const password = input('password', {type: 'password', autocomplete: 'current-password', required: true});
  const form = h('form', {id: 'signin', class: 'form signin-form', method: 'post'},
    field(t('signin.email'), email),
    field(t('signin.password'), password),
    box,
    h('button', {type: 'submit', class: 'btn btn-primary btn-block'}, t('signin.submit')));
  let countdown = null;
  wireForm(form, box, async (v, key) => {
    clearInterval(countdown);
    return signIn(v.email || '', v.password || '', key);
  }, {
    onDone: (data) => { location.hash = homeFor(data.staff.role); },
    onError: (err) => {
      if (!(err instanceof ApiError)) return false;
      if (err.status === 401) {
        clear(box);
        box.hidden = false;
        box.append(h('strong', {class: 'alert-title'}, t('signin.wrong')));
        password.value = '';
        password.focus();
        return true;
      }
      if (err.status === 429) {
        let left = err.retryAfter ?? 60;
        const paint = () => {
          clear(box);
          box.hidden = false;
          box.append(h('strong', {class: 'alert-title'}, t('signin.tooMany', {n: left})));
        };
        paint();
        clearInterval(countdown);
        countdown = setInterval(() => {
          left -= 1;
          if (left <= 0) { clearInterval(countdown); clear(box); box.hidden = true; return; }
          paint();
        }, 1000);
        return true;
      }
      showError(box, err);
      return true;
    },
  });
  const other = lang() === 'zh-CN' ? 'en' : 'zh-CN';
  root.append(h('div', {class: 'signin-card'},
    h('div', {class: 'signin-brand'}, h('span', {class: 'brand-mark', 'aria-hidden': 'true'}, 'ev'), h('span', {class: 'brand-name'}, t('app.name'))),
    h('h1', t('signin.title')),
    h('p', {class: 'muted'}, t('signin.subtitle')),
    form,
    h('div', {class: 'signin-foot'},
      h('button', {type: 'button', class: 'btn btn-ghost lang-switch', onclick: () => setLang(other)}, t('shell.otherLanguage')))));
  email.focus();
  return () => clearInterval(countdown);
}
