// Renderer entry: connect to the engine (Electron bridge or WebSocket),
// provide the typed Api, install Pinia and the router, mount the shell.
import { createApp } from 'vue';
import { createPinia } from 'pinia';
import App from './App.vue';
import { createClient } from '@shared/client';
import { pickTransport } from './api/transport';
import { provideApi } from './api/useApi';
import { createAppRouter } from './router';
import { useConnectionStore } from './stores/useConnectionStore';
import { applyTheme, storedTheme } from './theme';
import './styles/base.css';

applyTheme(storedTheme());

const app = createApp(App);
const pinia = createPinia();
app.use(pinia);

const connection = useConnectionStore(pinia);
const { transport, via } = pickTransport(window, {
  onOpen: () => connection.opened(),
  onProblem: (problem) => connection.lost(problem),
});
connection.setVia(via);
provideApi(app, createClient(transport));

app.use(createAppRouter());
app.mount('#app');
