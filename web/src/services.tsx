// The client's long-lived services, created once in main.tsx and handed down by context.
import { createContext, useContext, useSyncExternalStore } from "react";
import type { ApiClient } from "./api/client";
import type { Session } from "./api/session";

export interface Services {
  api: ApiClient;
}

export const ServicesContext = createContext<Services | null>(null);

export function useServices(): Services {
  const services = useContext(ServicesContext);
  if (!services) throw new Error("useServices outside <ServicesContext.Provider>");
  return services;
}

export function useSession(): Session | null {
  const { api } = useServices();
  return useSyncExternalStore(
    (notify) => api.sessions.subscribe(notify),
    () => api.sessions.get(),
  );
}
