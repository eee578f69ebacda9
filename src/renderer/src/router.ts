// The route table: one import per page, and the sidebar is built from the
// routes marked `nav`. Hash history, because the desktop app loads the
// renderer from a file:// URL where path-based history cannot work; the same
// build runs in browser mode.
import { createRouter, createWebHashHistory, type RouteRecordRaw } from 'vue-router';
import type { IconName } from './components/icons';
import ModelsPage from './pages/ModelsPage.vue';
import ExpandPage from './pages/ExpandPage.vue';
import DatasetsPage from './pages/DatasetsPage.vue';
import TrainPage from './pages/TrainPage.vue';
import ChatPage from './pages/ChatPage.vue';
import JobsPage from './pages/JobsPage.vue';
import JobDetailPage from './pages/JobDetailPage.vue';
import SettingsPage from './pages/SettingsPage.vue';

declare module 'vue-router' {
  interface RouteMeta {
    /** page title (window title and header) */
    title: string;
    /** shown in the sidebar with this icon, in this group */
    nav?: { icon: IconName; group: 'workbench' | 'system' };
  }
}

export const routes: RouteRecordRaw[] = [
  { path: '/', redirect: '/models' },
  { path: '/models', name: 'models', component: ModelsPage, meta: { title: 'Models', nav: { icon: 'models', group: 'workbench' } } },
  { path: '/expand', name: 'expand', component: ExpandPage, meta: { title: 'Expand', nav: { icon: 'expand', group: 'workbench' } } },
  { path: '/datasets', name: 'datasets', component: DatasetsPage, meta: { title: 'Datasets', nav: { icon: 'datasets', group: 'workbench' } } },
  { path: '/train', name: 'train', component: TrainPage, meta: { title: 'Train', nav: { icon: 'train', group: 'workbench' } } },
  { path: '/chat', name: 'chat', component: ChatPage, meta: { title: 'Chat', nav: { icon: 'chat', group: 'workbench' } } },
  { path: '/jobs', name: 'jobs', component: JobsPage, meta: { title: 'Jobs', nav: { icon: 'jobs', group: 'system' } } },
  { path: '/jobs/:id', name: 'job', component: JobDetailPage, props: true, meta: { title: 'Job' } },
  { path: '/settings', name: 'settings', component: SettingsPage, meta: { title: 'Settings', nav: { icon: 'settings', group: 'system' } } },
  { path: '/:pathMatch(.*)*', redirect: '/models' },
];

export function createAppRouter() {
  const router = createRouter({ history: createWebHashHistory(), routes });
  router.afterEach((to) => {
    document.title = to.meta.title ? `${to.meta.title} · Deepen` : 'Deepen';
  });
  return router;
}
