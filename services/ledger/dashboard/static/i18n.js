// Chinese first, English on the toggle; the choice is kept in localStorage.
const TEXT = {
  zh: {
    title: "联合奖惩运行看板", logout: "退出", token: "访问令牌", login: "登录",
    live_off: "未连接", live_on: "实时", bad_token: "令牌无效",
    chart_designations: "每日认定（按名单类型）", chart_interceptions: "每日拦截（按措施）",
    chart_departments: "各部门反馈率与逾期任务",
    departments: "部门反馈（未反馈部门置顶）", col_department: "部门", col_assigned: "任务",
    col_answered: "已反馈", col_rate: "反馈率", col_overdue: "逾期", col_median: "反馈中位用时",
    drill: "逾期任务", col_subject: "主体", col_list_type: "名单类型", col_measure: "措施",
    col_deadline: "反馈期限", col_designated_by: "认定部门",
    subject: "主体时间线", search: "查询", search_hint: "统一社会信用代码、身份证号、组织机构代码……",
    as_of: "截至时点", known_at: "所知时点", now: "现在", live: "实时动态",
    tile_subjects_under_sanction: "惩戒中主体", tile_designations_in_force: "有效认定",
    tile_objections_pending: "待处理异议", tile_objections_overdue: "逾期异议",
    tile_interceptions_today: "今日拦截", tile_tasks_overdue: "逾期任务",
    tile_dead_letters: "死信", tile_consumer_lag: "消费积压",
    chain_ok: "哈希链校验通过", chain_broken: "哈希链断裂", events: "事件",
    restricted: "受限", not_restricted: "不受限", nothing: "无有效认定",
    rate: "反馈率", overdue: "逾期",
    state_pending: "待生效", state_in_force: "有效", state_suspended: "暂停", state_expired: "到期",
    state_exited: "退出", state_repaired: "已修复", state_revoked: "撤销", state_superseded: "被替代",
    not_reporting: "未反馈",
  },
  en: {
    title: "Joint sanctions operations", logout: "Log out", token: "Access token", login: "Log in",
    live_off: "offline", live_on: "live", bad_token: "Unknown token",
    chart_designations: "Designations per day (by list type)",
    chart_interceptions: "Interceptions per day (by measure)",
    chart_departments: "Feedback rate and overdue tasks per department",
    departments: "Department feedback (non-reporting first)", col_department: "Department",
    col_assigned: "Tasks", col_answered: "Answered", col_rate: "Feedback rate", col_overdue: "Overdue",
    col_median: "Median time to feedback", drill: "Overdue tasks", col_subject: "Subject",
    col_list_type: "List type", col_measure: "Measure", col_deadline: "Deadline",
    col_designated_by: "Designated by", subject: "Subject timeline", search: "Search",
    search_hint: "USCC, resident id, organisation code…", as_of: "As of", known_at: "Known at",
    now: "now", live: "Live", tile_subjects_under_sanction: "Subjects under sanction",
    tile_designations_in_force: "Designations in force", tile_objections_pending: "Objections pending",
    tile_objections_overdue: "Objections overdue", tile_interceptions_today: "Interceptions today",
    tile_tasks_overdue: "Tasks overdue", tile_dead_letters: "Dead letters",
    tile_consumer_lag: "Consumer lag", chain_ok: "hash chain verifies", chain_broken: "hash chain broken",
    events: "events", restricted: "restricted", not_restricted: "not restricted",
    nothing: "nothing in force", rate: "feedback rate", overdue: "overdue",
    state_pending: "pending", state_in_force: "in force", state_suspended: "suspended",
    state_expired: "expired", state_exited: "exited", state_repaired: "repaired",
    state_revoked: "revoked", state_superseded: "superseded", not_reporting: "not reporting",
  },
};

let lang = localStorage.getItem("jsb.lang") === "en" ? "en" : "zh";

export function t(key) {
  return TEXT[lang][key] ?? TEXT.zh[key] ?? key;
}

export function currentLang() {
  return lang;
}

export function applyTexts(root = document) {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  }
  document.getElementById("lang").textContent = lang === "zh" ? "English" : "中文";
}

export function toggleLang() {
  lang = lang === "zh" ? "en" : "zh";
  localStorage.setItem("jsb.lang", lang);
  applyTexts();
}
