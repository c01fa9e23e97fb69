import { lazy, Suspense, useEffect, useRef } from "react";
import { isSignedOutPage, navigate, useRoute } from "./router";
import { useServices, useSession } from "./services";
import { AuthPage } from "./pages/AuthPage";
import { MemoryPage } from "./pages/MemoryPage";
import { ProjectsPage } from "./pages/ProjectsPage";

// The studio (timeline, audio engine, lyrics editor) is its own chunk. Opening a
// studio URL starts fetching it at once, in parallel with React's first render.
const loadStudio = () => import("./studio/StudioPage");
if (window.location.pathname.startsWith("/projects/")) void loadStudio();
const StudioPage = lazy(loadStudio);
// The account page and the pages emailed links open are their own chunk too.
const AccountPages = lazy(() => import("./pages/account/AccountPages"));

export function App() {
  const route = useRoute();
  const session = useSession();
  const { api } = useServices();

  // Keep the access token fresh while the app is open (the socket reuses it).
  useEffect(() => {
    if (!session) return;
    const wait = Math.max(5_000, session.expiresAt - Date.now() - 60_000);
    const timer = window.setTimeout(() => {
      if (navigator.onLine) void api.refresh().catch(() => undefined);
    }, wait);
    return () => window.clearTimeout(timer);
  }, [api, session]);

  // A session that ends while the studio is open is renewed in the studio's own
  // "Sign in again" dialog, so the page (and the edits waiting in it) stays.
  const studioOpened = useRef(false);
  if (route.page !== "studio") studioOpened.current = false;
  else if (session) studioOpened.current = true;
  const keepStudio = !session && route.page === "studio" && studioOpened.current;

  const signedOutPage = isSignedOutPage(route);
  useEffect(() => {
    if (!session && !signedOutPage && !keepStudio) {
      const here = window.location.pathname + window.location.search;
      navigate(`/login${here !== "/" ? `?next=${encodeURIComponent(here)}` : ""}`, { replace: true });
    }
  }, [session, signedOutPage, keepStudio]);

  if (route.page === "login" || route.page === "signup") {
    return <AuthPage mode={route.page} next={route.next} arrival={route} />;
  }
  if (signedOutPage || (route.page === "account" && session)) {
    return (
      <Suspense fallback={<p className="loading" role="status">Loading…</p>}>
        <AccountPages route={route} />
      </Suspense>
    );
  }
  if (!session && !keepStudio) return null;
  if (route.page === "studio") {
    return (
      <Suspense fallback={<p className="loading" role="status">Opening the studio…</p>}>
        <StudioPage key={route.projectId} projectId={route.projectId} />
      </Suspense>
    );
  }
  if (route.page === "projects") return <ProjectsPage />;
  if (route.page === "memory") return <MemoryPage />;
  return (
    <main className="page narrow">
      <h1>Page not found</h1>
      <p>
        <a href="/" onClick={(e) => { e.preventDefault(); navigate("/"); }}>Back to your projects</a>
      </p>
    </main>
  );
}
