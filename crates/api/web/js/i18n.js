// Every user-visible string of the command view, in Chinese (the default: the operators are
// county police and traffic staff) and English. Components re-render on a language change
// through onLangChange; static markup carries data-i18n* attributes (see translateTree).

const STORAGE_KEY = 'xl.lang';
export const LANGS = ['zh', 'en'];

const zh = {
  'app.title': '雪亮工程 · 指挥视图',
  'lang.switch': 'English',
  'lang.switchTitle': '切换到英文',

  'signin.hint': '请粘贴您的访问令牌（形如 xl_<编号>_<密钥>）。令牌只保存在本标签页中，关闭即清除。',
  'signin.token': '访问令牌',
  'signin.submit': '登录',
  'signin.busy': '正在验证…',
  'signin.empty': '请输入令牌。',
  'signin.rejected': '令牌无效或已过期：{detail}',
  'signin.expired': '会话已失效，请重新登录。',
  'signin.failed': '无法登录：{detail}',
  'signin.signedOut': '您已退出登录。',

  'header.signOut': '退出',
  'header.whoami': '{user} · {dept} · {role}',
  'role.viewer': '查看员',
  'role.analyst': '分析员',
  'role.supervisor': '主管',
  'role.admin': '管理员',

  'live.connecting': '正在连接实时流…',
  'live.connected': '实时',
  'live.reconnecting': '重连中（{s} 秒后）',
  'live.error': '实时流错误：{detail}',
  'live.lagged': '服务器跳过了 {n} 条事件（客户端过慢）',

  'kind.all': '全部类型',
  'kind.plate_read': '车牌识别',
  'kind.watchlist_hit': '布控命中',
  'kind.restricted_zone': '闯禁行',
  'kind.overload': '超限超载',
  'kind.obscured_plate': '遮挡号牌',
  'kind.cloned_plate': '套牌嫌疑',
  'kind.flow_count': '车流量',

  'color.blue': '蓝牌',
  'color.yellow': '黄牌',
  'color.green': '绿牌',
  'color.white': '白牌',
  'color.black': '黑牌',

  'vehicle.car': '小型车',
  'vehicle.bus': '客车',
  'vehicle.truck': '货车',
  'vehicle.motorcycle': '摩托车',

  'map.label': '摄像机地图：拖动平移，滚轮或 +/− 缩放',
  'map.zoomIn': '放大',
  'map.zoomOut': '缩小',
  'map.fit': '显示全部摄像机',
  'map.noCameras': '暂无可显示的摄像机',
  'map.cluster': '{n} 台摄像机',
  'map.clusterBreakdown': '正常 {ok} · 异常 {degraded} · 离线 {down} · 未知 {unknown}',
  'map.clickToZoom': '点击放大',
  'map.clickToFilter': '点击筛选该摄像机的事件',
  'map.unplaced': '{n} 台摄像机未标注位置',
  'map.legend.ok': '正常',
  'map.legend.degraded': '连接中/退避',
  'map.legend.down': '离线',
  'map.legend.unknown': '未知',

  'feed.title': '实时事件',
  'feed.kind': '类型',
  'feed.camera': '摄像机',
  'feed.cameraPlaceholder': '摄像机编号',
  'feed.plate': '号牌',
  'feed.platePlaceholder': '完整号牌',
  'feed.clear': '清除筛选',
  'feed.pause': '暂停',
  'feed.resume': '继续',
  'feed.paused': '已暂停，缓存 {n} 条',
  'feed.rate': '{n} 条/秒',
  'feed.count': '共 {n} 条',
  'feed.empty': '等待实时事件…',
  'feed.dropped': '暂停期间丢弃 {n} 条',

  'tab.health': '设备状态',
  'tab.search': '号牌查询',

  'health.streaming': '正常',
  'health.degraded': '异常',
  'health.down': '离线',
  'health.noReport': '其中 {n} 台无上报',
  'health.col.camera': '摄像机',
  'health.col.state': '状态',
  'health.col.fps': '输入帧率',
  'health.col.lastFrame': '最后一帧',
  'health.col.reconnects': '重连次数',
  'health.col.error': '最近错误',
  'health.loading': '正在加载摄像机…',
  'health.empty': '无可见摄像机',
  'health.stale': '（{d}未上报）',
  'state.streaming': '推流中',
  'state.connecting': '连接中',
  'state.backoff': '退避重连',
  'state.stopped': '已停止',
  'state.unknown': '无上报',
  'state.stale': '超时',

  'rel.now': '刚刚',
  'rel.ago': '{d}前',
  'rel.never': '从未',
  'dur.s': '{n} 秒',
  'dur.m': '{n} 分钟',
  'dur.h': '{n} 小时',
  'dur.d': '{n} 天',

  'search.placeholder': '号牌，如 皖S12345；前缀加 *，如 皖S1*',
  'search.go': '查询',
  'search.clear': '清除轨迹',
  'search.idle': '输入号牌查询历史事件与行驶轨迹。',
  'search.loading': '查询中…',
  'search.count': '{n} 条事件',
  'search.countMore': '已显示 {n} 条，还有更多',
  'search.more': '加载更多',
  'search.none': '未找到事件。',
  'search.prefix': '前缀查询「{q}」',
  'search.exact': '号牌「{q}」',
  'search.results': '事件（按时间先后）',
  'search.trajectory': '行驶轨迹',
  'search.trajectoryCount': '{n} 个点',
  'search.trajectoryNone': '无轨迹点。',
  'search.trajectoryPrefix': '前缀查询不显示轨迹。',
  'search.trajectoryDenied': '无法查看轨迹：{detail}',
  'search.unplaced': '（位置未标注）',

  'detail.title': '事件详情',
  'detail.close': '关闭',
  'detail.loading': '加载中…',
  'detail.notFound': '未找到该事件（不存在或不在您的权限范围内）。',
  'detail.error': '加载失败：{detail}',
  'detail.time': '时间',
  'detail.camera': '摄像机',
  'detail.plate': '号牌',
  'detail.confidence': '置信度 {p}',
  'detail.searchPlate': '查询此号牌',
  'detail.vehicle': '车辆',
  'detail.track': '跟踪 #{n}',
  'detail.rule': '规则详情',
  'detail.source': '来源',
  'detail.eventId': '事件编号',
  'detail.evidence': '证据图像',
  'detail.noEvidence': '无证据图像。',
  'detail.evidenceMasked': '证据图像已按共享规则屏蔽。',
  'detail.plateMasked': '号牌已按共享规则部分隐去。',
  'detail.evidenceFailed': '图像无法加载：{detail}',
  'detail.withheld': '已隐去（不在您的权限范围内）',
  'detail.frame': '帧 {n}',
  'detail.size': '{w}×{h}',
  'evidence.frame_jpeg': '全景',
  'evidence.plate_jpeg': '号牌特写',
  'evidence.vehicle_jpeg': '车辆特写',
  'source.rtsp': '实时流',
  'source.file': '文件',

  'rule.list': '布控名单',
  'rule.reason': '布控原因',
  'rule.listedPlate': '布控号牌',
  'rule.fuzzy': '模糊匹配',
  'rule.yes': '是',
  'rule.no': '否',
  'rule.read': '关联识别',
  'rule.zone': '禁行区域',
  'rule.enteredAt': '进入时间',
  'rule.point': '进入点（像素）',
  'rule.station': '称重站',
  'rule.lane': '车道 {n}',
  'rule.axles': '轴数',
  'rule.gross': '总重',
  'rule.limit': '限重',
  'rule.excess': '超限率',
  'rule.speed': '车速',
  'rule.weighedAt': '称重时间',
  'rule.tiedReads': '同等接近的识别（需人工选择）',
  'rule.frames': '跟踪帧数',
  'rule.maxBox': '最大车框高度',
  'rule.firstSeen': '首次出现',
  'rule.lastSeen': '最后出现',
  'rule.earlier': '较早识别',
  'rule.later': '较晚识别',
  'rule.distance': '两点距离',
  'rule.impliedSpeed': '推算车速',
  'rule.line': '计数线',
  'rule.direction': '方向',
  'rule.interval': '统计时段',
  'rule.counts': '分类计数',
  'rule.readRef': '{plate} · {camera} · {time}',

  'review.title': '审核',
  'review.none': '待审核',
  'review.confirmed': '已确认',
  'review.dismissed': '已驳回',
  'review.by': '{status} · {user}（{dept}）· {time}',
  'review.confirm': '确认违法',
  'review.dismiss': '驳回',
  'review.reasonPlaceholder': '驳回原因（必填）',
  'review.reasonRequired': '驳回时必须填写原因。',
  'review.failed': '审核失败：{detail}',
  'review.denied': '审核需要分析员及以上权限。',
  'review.history': '审核记录',
  'review.reasonLabel': '原因：{reason}',

  'error.network': '网络错误',
  'error.http': 'HTTP {status}',
};

const en = {
  'app.title': 'Xueliang · Command view',
  'lang.switch': '中文',
  'lang.switchTitle': 'Switch to Chinese',

  'signin.hint': 'Paste your access token (xl_<id>_<secret>). It is kept in this tab only and cleared when the tab closes.',
  'signin.token': 'Access token',
  'signin.submit': 'Sign in',
  'signin.busy': 'Checking…',
  'signin.empty': 'Enter a token.',
  'signin.rejected': 'Token rejected: {detail}',
  'signin.expired': 'Your session has ended. Please sign in again.',
  'signin.failed': 'Cannot sign in: {detail}',
  'signin.signedOut': 'You have signed out.',

  'header.signOut': 'Sign out',
  'header.whoami': '{user} · {dept} · {role}',
  'role.viewer': 'viewer',
  'role.analyst': 'analyst',
  'role.supervisor': 'supervisor',
  'role.admin': 'admin',

  'live.connecting': 'Connecting to live stream…',
  'live.connected': 'Live',
  'live.reconnecting': 'Reconnecting in {s} s',
  'live.error': 'Live stream error: {detail}',
  'live.lagged': 'The server skipped {n} events (client too slow)',

  'kind.all': 'All kinds',
  'kind.plate_read': 'plate read',
  'kind.watchlist_hit': 'watch-list hit',
  'kind.restricted_zone': 'restricted zone',
  'kind.overload': 'overload',
  'kind.obscured_plate': 'obscured plate',
  'kind.cloned_plate': 'cloned plate',
  'kind.flow_count': 'traffic flow',

  'color.blue': 'blue',
  'color.yellow': 'yellow',
  'color.green': 'green',
  'color.white': 'white',
  'color.black': 'black',

  'vehicle.car': 'car',
  'vehicle.bus': 'bus',
  'vehicle.truck': 'truck',
  'vehicle.motorcycle': 'motorcycle',

  'map.label': 'Camera map: drag to pan, wheel or +/− to zoom',
  'map.zoomIn': 'Zoom in',
  'map.zoomOut': 'Zoom out',
  'map.fit': 'Show all cameras',
  'map.noCameras': 'No cameras to show',
  'map.cluster': '{n} cameras',
  'map.clusterBreakdown': 'ok {ok} · degraded {degraded} · down {down} · unknown {unknown}',
  'map.clickToZoom': 'Click to zoom in',
  'map.clickToFilter': 'Click to show this camera’s events',
  'map.unplaced': '{n} cameras have no position',
  'map.legend.ok': 'streaming',
  'map.legend.degraded': 'connecting/backoff',
  'map.legend.down': 'down',
  'map.legend.unknown': 'unknown',

  'feed.title': 'Live events',
  'feed.kind': 'Kind',
  'feed.camera': 'Camera',
  'feed.cameraPlaceholder': 'camera id',
  'feed.plate': 'Plate',
  'feed.platePlaceholder': 'full plate',
  'feed.clear': 'Clear filters',
  'feed.pause': 'Pause',
  'feed.resume': 'Resume',
  'feed.paused': 'Paused, {n} buffered',
  'feed.rate': '{n} events/s',
  'feed.count': '{n} in list',
  'feed.empty': 'Waiting for live events…',
  'feed.dropped': '{n} dropped while paused',

  'tab.health': 'Camera health',
  'tab.search': 'Plate search',

  'health.streaming': 'streaming',
  'health.degraded': 'degraded',
  'health.down': 'down',
  'health.noReport': '{n} never reported',
  'health.col.camera': 'Camera',
  'health.col.state': 'State',
  'health.col.fps': 'FPS in',
  'health.col.lastFrame': 'Last frame',
  'health.col.reconnects': 'Reconnects',
  'health.col.error': 'Last error',
  'health.loading': 'Loading cameras…',
  'health.empty': 'No cameras in your scope',
  'health.stale': ' (no report for {d})',
  'state.streaming': 'streaming',
  'state.connecting': 'connecting',
  'state.backoff': 'backoff',
  'state.stopped': 'stopped',
  'state.unknown': 'no report',
  'state.stale': 'stale',

  'rel.now': 'just now',
  'rel.ago': '{d} ago',
  'rel.never': 'never',
  'dur.s': '{n} s',
  'dur.m': '{n} min',
  'dur.h': '{n} h',
  'dur.d': '{n} d',

  'search.placeholder': 'Plate, e.g. 皖S12345; prefix with *, e.g. 皖S1*',
  'search.go': 'Search',
  'search.clear': 'Clear trajectory',
  'search.idle': 'Search a plate for its events and trajectory.',
  'search.loading': 'Searching…',
  'search.count': '{n} events',
  'search.countMore': '{n} shown, more available',
  'search.more': 'Load more',
  'search.none': 'No events found.',
  'search.prefix': 'Prefix “{q}”',
  'search.exact': 'Plate “{q}”',
  'search.results': 'Events (oldest first)',
  'search.trajectory': 'Trajectory',
  'search.trajectoryCount': '{n} points',
  'search.trajectoryNone': 'No trajectory points.',
  'search.trajectoryPrefix': 'No trajectory for a prefix search.',
  'search.trajectoryDenied': 'Trajectory not available: {detail}',
  'search.unplaced': '(no position)',

  'detail.title': 'Event detail',
  'detail.close': 'Close',
  'detail.loading': 'Loading…',
  'detail.notFound': 'Event not found (it does not exist or is outside your scope).',
  'detail.error': 'Cannot load: {detail}',
  'detail.time': 'Time',
  'detail.camera': 'Camera',
  'detail.plate': 'Plate',
  'detail.confidence': 'confidence {p}',
  'detail.searchPlate': 'Search this plate',
  'detail.vehicle': 'Vehicle',
  'detail.track': 'track #{n}',
  'detail.rule': 'Rule details',
  'detail.source': 'Source',
  'detail.eventId': 'Event id',
  'detail.evidence': 'Evidence',
  'detail.noEvidence': 'No evidence images.',
  'detail.evidenceMasked': 'Evidence images are masked by the sharing rules.',
  'detail.plateMasked': 'The plate is partly masked by the sharing rules.',
  'detail.evidenceFailed': 'Image unavailable: {detail}',
  'detail.withheld': 'withheld (outside your scope)',
  'detail.frame': 'frame {n}',
  'detail.size': '{w}×{h}',
  'evidence.frame_jpeg': 'full frame',
  'evidence.plate_jpeg': 'plate close-up',
  'evidence.vehicle_jpeg': 'vehicle close-up',
  'source.rtsp': 'live stream',
  'source.file': 'file',

  'rule.list': 'Watch list',
  'rule.reason': 'Reason',
  'rule.listedPlate': 'Listed plate',
  'rule.fuzzy': 'Fuzzy match',
  'rule.yes': 'yes',
  'rule.no': 'no',
  'rule.read': 'Plate read',
  'rule.zone': 'Zone',
  'rule.enteredAt': 'Entered at',
  'rule.point': 'Entry point (px)',
  'rule.station': 'WIM station',
  'rule.lane': 'lane {n}',
  'rule.axles': 'Axles',
  'rule.gross': 'Gross weight',
  'rule.limit': 'Limit',
  'rule.excess': 'Excess',
  'rule.speed': 'Speed',
  'rule.weighedAt': 'Weighed at',
  'rule.tiedReads': 'Equally close reads (analyst must choose)',
  'rule.frames': 'Tracked frames',
  'rule.maxBox': 'Tallest vehicle box',
  'rule.firstSeen': 'First seen',
  'rule.lastSeen': 'Last seen',
  'rule.earlier': 'Earlier read',
  'rule.later': 'Later read',
  'rule.distance': 'Distance',
  'rule.impliedSpeed': 'Implied speed',
  'rule.line': 'Counting line',
  'rule.direction': 'Direction',
  'rule.interval': 'Interval',
  'rule.counts': 'Counts',
  'rule.readRef': '{plate} · {camera} · {time}',

  'review.title': 'Review',
  'review.none': 'not reviewed',
  'review.confirmed': 'confirmed',
  'review.dismissed': 'dismissed',
  'review.by': '{status} by {user} ({dept}) at {time}',
  'review.confirm': 'Confirm',
  'review.dismiss': 'Dismiss',
  'review.reasonPlaceholder': 'Reason for dismissing (required)',
  'review.reasonRequired': 'A reason is required to dismiss.',
  'review.failed': 'Review failed: {detail}',
  'review.denied': 'Reviewing needs the analyst role or above.',
  'review.history': 'Review history',
  'review.reasonLabel': 'reason: {reason}',

  'error.network': 'network error',
  'error.http': 'HTTP {status}',
};

const DICTS = { zh, en };
const listeners = new Set();
let current = 'zh';

/** Reads the remembered language; Chinese unless the operator chose English before. */
export function initLang() {
  let saved = null;
  try {
    saved = localStorage.getItem(STORAGE_KEY);
  } catch {
    // Storage can be disabled by policy on locked-down wall PCs; the default still works.
  }
  current = LANGS.includes(saved) ? saved : 'zh';
  syncDocument();
}

export function lang() {
  return current;
}

export function setLang(next) {
  if (!LANGS.includes(next) || next === current) return;
  current = next;
  try {
    localStorage.setItem(STORAGE_KEY, next);
  } catch {
    // Not remembered, but the switch still applies to this page.
  }
  syncDocument();
  for (const fn of listeners) fn(current);
}

export function toggleLang() {
  setLang(current === 'zh' ? 'en' : 'zh');
}

/** Subscribes to language changes; returns the unsubscribe function. */
export function onLangChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Looks a key up and fills `{name}` placeholders; an unknown key shows itself so it gets noticed. */
export function t(key, params) {
  const text = DICTS[current][key] ?? DICTS.zh[key] ?? key;
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
}

/** Translated label of an event kind; unknown kinds (a newer server) show their raw name. */
export function kindLabel(kind) {
  const key = `kind.${kind}`;
  return key in zh ? t(key) : kind;
}

/** Translates an optional enum value (`prefix.value`), falling back to the raw value. */
export function enumLabel(prefix, value) {
  const key = `${prefix}.${value}`;
  return key in zh ? t(key) : String(value);
}

/**
 * Fills static markup: data-i18n sets the text, data-i18n-placeholder / -title / -aria-label
 * the attribute of that name.
 */
export function translateTree(root) {
  for (const node of root.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
  for (const attr of ['placeholder', 'title', 'aria-label']) {
    const data = `data-i18n-${attr}`;
    for (const node of root.querySelectorAll(`[${data}]`)) node.setAttribute(attr, t(node.getAttribute(data)));
  }
}

function syncDocument() {
  if (typeof document === 'undefined') return;
  document.documentElement.lang = current === 'zh' ? 'zh-CN' : 'en';
  document.title = t('app.title');
}

/** For tests: every key present in both languages. */
export function missingKeys() {
  const a = Object.keys(zh).filter((k) => !(k in en));
  const b = Object.keys(en).filter((k) => !(k in zh));
  return [...a, ...b];
}
