// @vitest-environment jsdom
import { act, cleanup, fireEvent, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { OAUTH_NEXT_KEY } from "../providers";
import { authOut, fakeServer, json, renderWithApi, testUser } from "./fakeServer";
import { AuthDonePage, ConfirmLinkPage, ForgotPasswordPage, ResetPasswordPage, VerifyEmailPage } from "./RecoveryPages";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  window.sessionStorage.clear();
  window.history.replaceState(null, "", "/");
});

const open = (url: string) => window.history.replaceState(null, "", url);
const address = () => window.location.pathname + window.location.search + window.location.hash;

describe("ForgotPasswordPage", () => {
  it("sends the address and says the same whether or not it has an account", async () => {
    const calls = fakeServer({ "POST /api/v1/auth/password/forgot": () => json(202, { sent: true }) });
    renderWithApi(<ForgotPasswordPage />);
    fireEvent.change(screen.getByLabelText("Email"), { target: { value: "ann@example.com" } });
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Send reset link" })));
    expect(calls).toMatchObject([{ method: "POST", path: "/api/v1/auth/password/forgot", body: { email: "ann@example.com" } }]);
    expect(screen.getByRole("status").textContent).toBe("If an account exists, a link is on its way to ann@example.com.");
  });
});

describe("ResetPasswordPage", () => {
  it("reads the token from the fragment, clears it, and signs in with the new password", async () => {
    const calls = fakeServer({ "POST /api/v1/auth/password/reset": () => authOut(2) });
    open("/reset-password#token=tok-1");
    const { store } = renderWithApi(<ResetPasswordPage />);
    expect(address()).toBe("/reset-password");

    fireEvent.change(screen.getByLabelText("New password"), { target: { value: "a new password" } });
    fireEvent.change(screen.getByLabelText("Repeat the password"), { target: { value: "a new passwork" } });
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Set new password" })));
    expect(screen.getByRole("alert").textContent).toMatch(/differ/);
    expect(calls).toEqual([]);

    fireEvent.change(screen.getByLabelText("Repeat the password"), { target: { value: "a new password" } });
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Set new password" })));
    expect(calls).toMatchObject([{ path: "/api/v1/auth/password/reset", auth: null, body: { token: "tok-1", password: "a new password" } }]);
    expect(store.get()?.accessToken).toBe("access-2");
    expect(address()).toBe("/");
  });

  it("without a token says the link is incomplete and offers a new one", () => {
    fakeServer({});
    open("/reset-password");
    renderWithApi(<ResetPasswordPage />);
    expect(screen.getByRole("alert").textContent).toMatch(/incomplete/);
    expect(screen.queryByRole("button", { name: "Set new password" })).toBeNull();
    expect(screen.getByRole("link", { name: "Ask for a new link" }).getAttribute("href")).toBe("/forgot-password");
  });

  it("shows the server's refusal (an expired link)", async () => {
    fakeServer({ "POST /api/v1/auth/password/reset": () => json(400, { error: { code: "invalid_token", message: "This link has expired: ask for a new one." } }) });
    open("/reset-password#token=old");
    renderWithApi(<ResetPasswordPage />);
    fireEvent.change(screen.getByLabelText("New password"), { target: { value: "a new password" } });
    fireEvent.change(screen.getByLabelText("Repeat the password"), { target: { value: "a new password" } });
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Set new password" })));
    expect(screen.getByRole("alert").textContent).toBe("This link has expired: ask for a new one.");
    expect(address()).toBe("/reset-password");
  });
});

describe("the single-use links, spent once even in StrictMode", () => {
  it("/verify-email confirms the address and offers to continue", async () => {
    const calls = fakeServer({ "POST /api/v1/auth/email/verify": () => ({ user: { ...testUser, email_verified: true } }) });
    open("/verify-email#token=v1");
    const { store } = renderWithApi(<VerifyEmailPage />, { user: { ...testUser, email_verified: false } });
    expect(await screen.findByRole("button", { name: "Continue" })).toBeTruthy();
    expect(screen.getByRole("status").textContent).toBe("Your email address ann@example.com is confirmed.");
    expect(calls).toMatchObject([{ path: "/api/v1/auth/email/verify", body: { token: "v1" } }]);
    expect(store.get()?.user.email_verified).toBe(true);
    expect(address()).toBe("/verify-email");
  });

  it("/verify-email shows a refusal", async () => {
    fakeServer({ "POST /api/v1/auth/email/verify": () => json(400, { error: { code: "invalid_token", message: "This link was already used." } }) });
    open("/verify-email#token=v1");
    renderWithApi(<VerifyEmailPage />);
    expect((await screen.findByRole("alert")).textContent).toBe("This link was already used.");
    expect(screen.getByRole("link", { name: "Back to sign in" })).toBeTruthy();
  });

  it("/confirm-link links the provider, signs in and opens the projects", async () => {
    const calls = fakeServer({ "POST /api/v1/auth/email/link": () => authOut(3) });
    open("/confirm-link#token=c1");
    const { store } = renderWithApi(<ConfirmLinkPage />);
    await waitFor(() => expect(address()).toBe("/"));
    expect(calls).toMatchObject([{ path: "/api/v1/auth/email/link", body: { token: "c1" } }]);
    expect(store.get()?.accessToken).toBe("access-3");
  });

  it("/auth/done trades the handoff and opens the page remembered before the provider", async () => {
    const calls = fakeServer({ "POST /api/v1/auth/oauth/handoff": () => authOut(4) });
    window.sessionStorage.setItem(OAUTH_NEXT_KEY, "/projects/p1");
    open("/auth/done#handoff=h1");
    const { store } = renderWithApi(<AuthDonePage />);
    await waitFor(() => expect(address()).toBe("/projects/p1"));
    expect(calls).toMatchObject([{ path: "/api/v1/auth/oauth/handoff", body: { handoff: "h1" } }]);
    expect(store.get()?.accessToken).toBe("access-4");
    expect(window.sessionStorage.getItem(OAUTH_NEXT_KEY)).toBeNull();
  });

  it("/auth/done without a remembered page opens the projects; a spent code is explained", async () => {
    fakeServer({ "POST /api/v1/auth/oauth/handoff": () => authOut(5) });
    open("/auth/done#handoff=h2");
    renderWithApi(<AuthDonePage />);
    await waitFor(() => expect(address()).toBe("/"));
    cleanup();

    fakeServer({ "POST /api/v1/auth/oauth/handoff": () => json(400, { error: { code: "invalid_handoff", message: "This sign-in has expired: sign in again." } }) });
    open("/auth/done#handoff=h2");
    renderWithApi(<AuthDonePage />);
    expect((await screen.findByRole("alert")).textContent).toBe("This sign-in has expired: sign in again.");
    expect(address()).toBe("/auth/done");
  });
});
