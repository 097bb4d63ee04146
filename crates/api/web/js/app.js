// The signed-in command view: builds the screen from its template and wires the parts
// together (camera table -> map / health wall / feed names; live stream -> feed; feed, search
// and map -> event detail). mountApp returns the teardown that a sign-out runs.
import { CameraTable, pollCameras } from './cameras.js';
import { EventDetail } from './detail.js';
import { byTestId } from './dom.js';
import { Feed } from './feed.js';
import { HealthWall } from './health.js';
import { onLangChange, t, toggleLang, translateTree } from './i18n.js';
import { LiveStatus } from './live-status.js';
import { LiveStream } from './live.js';
import { MapView } from './map-view.js';
import { clearRoute, currentRoute, goToEvent, onRouteChange } from './router.js';
import { PlateSearch } from './search.js';
import { resetStats } from './stats.js';

// How long after arriving on the live stream an event may still be missing from the store.
const FRESH_EVENT_MS = 15000;

/**
 * @param root element to fill
 * @param options {api, me, viewConfig, onSignOut()}
 * @returns teardown function
 */
export function mountApp(root, { api, me, viewConfig, onSignOut }) {
  const app = document.getElementById('tpl-app').content.firstElementChild.cloneNode(true);
  root.replaceChildren(app);
  translateTree(app);
  resetStats();

  const table = new CameraTable();
  const stopPolling = pollCameras(api, table);

  const selectCamera = (id) => feed.setCameraFilter(id);
  const map = new MapView(app.querySelector('.map-pane'), {
    table,
    tileUrl: viewConfig.tile_url,
    attribution: viewConfig.tile_attribution,
    onCameraClick: selectCamera,
  });

  const liveStatus = new LiveStatus(byTestId(app, 'live-status'));
  const live = new LiveStream(api, {
    onEvent: (event) => feed.push(event),
    onState: (state, info) => liveStatus.set(state, info),
    onLagged: (n) => liveStatus.addLagged(n),
  });
  const feed = new Feed(byTestId(app, 'feed'), {
    table,
    onOpen: goToEvent,
    onFiltersChange: (filters) => {
      map.setSelected(filters.camera);
      live.open(filters);
    },
  });
  live.open(feed.filters);

  const health = new HealthWall(byTestId(app, 'health-wall'), {
    table,
    onSelect: (id) => {
      selectCamera(id);
      map.focusCamera(id);
    },
  });
  const search = new PlateSearch(app.querySelector('.search-panel'), { api, table, map, onOpen: goToEvent });
  const detail = new EventDetail(byTestId(app, 'event-detail'), {
    api,
    table,
    me,
    onClose: () => {
      clearRoute();
      detail.close();
    },
    onShowCamera: (id) => {
      selectCamera(id);
      map.focusCamera(id);
    },
    onSearchPlate: (plate) => {
      showTab('search');
      search.search(plate);
    },
    isFresh: (id) => feed.arrivedRecently(id, FRESH_EVENT_MS),
  });

  // Tabs under the map: the health wall and the plate search.
  const tabs = [...app.querySelectorAll('[role=tab]')];
  const showTab = (name) => {
    for (const tab of tabs) tab.setAttribute('aria-selected', String(tab.dataset.tab === name));
    for (const panel of app.querySelectorAll('[data-panel]')) panel.hidden = panel.dataset.panel !== name;
    if (name === 'health') health.shown();
  };
  for (const tab of tabs) tab.addEventListener('click', () => showTab(tab.dataset.tab));

  const whoami = byTestId(app, 'whoami');
  const renderWhoami = () => {
    whoami.textContent = t('header.whoami', { user: me.user_id, dept: me.department_id, role: t(`role.${me.role}`) });
  };
  renderWhoami();
  byTestId(app, 'lang-toggle').addEventListener('click', toggleLang);
  byTestId(app, 'sign-out').addEventListener('click', () => onSignOut());

  const unsubscribeLang = onLangChange(() => {
    translateTree(app);
    renderWhoami();
    liveStatus.render();
    map.retranslate();
    feed.retranslate();
    health.retranslate();
    search.retranslate();
    detail.retranslate();
  });

  const applyRoute = (route) => {
    if (route.name === 'event') detail.open(route.id);
    else detail.close();
  };
  const unsubscribeRoute = onRouteChange(applyRoute);
  applyRoute(currentRoute());

  return () => {
    unsubscribeRoute();
    unsubscribeLang();
    live.close();
    stopPolling();
    api.close();
    detail.destroy();
    search.destroy();
    health.destroy();
    feed.destroy();
    map.destroy();
    root.replaceChildren();
  };
}
