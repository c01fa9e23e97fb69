import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { ApiClient } from "./api/client";
import { SessionStore } from "./api/session";
import { App } from "./App";
import { ServicesContext } from "./services";
import { registerServiceWorker } from "./pwa";
import "./styles.css";

const api = new ApiClient(new SessionStore());
createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <ServicesContext.Provider value={{ api }}>
      <App />
    </ServicesContext.Provider>
  </StrictMode>,
);
registerServiceWorker();
