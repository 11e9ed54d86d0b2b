// signetctl users create|list|disable|enable|password|signout-everywhere
import type { Noun } from "./command.js";
import { confirm, confirmedLine, yesOption } from "./confirm.js";
import { usageError } from "./errors.js";
import { block, printJson, printList, when } from "./output.js";

interface UserView {
  id: string;
  username: string;
  display_name: string;
  status: string;
  created_at: string;
}
interface UserChanged {
  id: string;
  username: string;
  status: string;
  tokens_revoked: number;
  confirmed_pods: number;
}

const passwordStdin = {
  type: "boolean" as const,
  label: "--password-stdin",
  description: "read the password from standard input (otherwise you are prompted)",
};

export const users: Noun = {
  name: "users",
  summary: "people who log in: create, list, disable, enable, password, signout-everywhere",
  commands: [
    {
      verb: "create",
      args: ["username"],
      summary: "create a user",
      options: {
        "display-name": {
          type: "string",
          required: true,
          label: "--display-name <name>",
          description: "the name shown to the user (required)",
        },
        "password-stdin": passwordStdin,
      },
      async run({ client, output, readSecret }, [username], values) {
        const displayName = values["display-name"] as string | undefined;
        if (!displayName?.trim()) throw usageError('users create needs --display-name "<name>"');
        const password = await readSecret(`Password for ${username}: `, {
          fromStdin: values["password-stdin"] === true,
          confirm: true,
        });
        const user = await client.request<UserView>("POST", "/users", {
          username,
          password,
          display_name: displayName,
        });
        if (output.json) return printJson(output, user);
        output.out(
          block([
            ["id", user.id],
            ["username", user.username],
            ["display name", user.display_name],
            ["status", user.status],
            ["created", when(user.created_at)],
          ]),
        );
      },
    },
    {
      verb: "list",
      args: [],
      summary: "list users",
      options: {},
      async run({ client, output }) {
        const res = await client.request<{ users: UserView[] }>("GET", "/users");
        printList(output, res, res.users, "(no users)", [
          { header: "USERNAME", value: (u) => u.username },
          { header: "DISPLAY NAME", value: (u) => u.display_name },
          { header: "STATUS", value: (u) => u.status },
          { header: "CREATED", value: (u) => when(u.created_at) },
          { header: "ID", value: (u) => u.id },
        ]);
      },
    },
    {
      verb: "disable",
      args: ["username"],
      summary: "disable a user; their tokens die on every data pod",
      details: "Asks first (--yes skips).",
      options: { yes: yesOption },
      async run({ client, output }, [username], values) {
        await confirm(`Disable ${username} and end every session of theirs`, values);
        const res = await client.request<UserChanged>(
          "POST",
          `/users/${encodeURIComponent(username!)}/disable`,
          {},
        );
        if (output.json) return printJson(output, res);
        output.out(
          block([
            ["username", res.username],
            ["status", res.status],
            ["tokens revoked", String(res.tokens_revoked)],
            ["confirmed pods", String(res.confirmed_pods)],
          ]),
        );
      },
    },
    {
      verb: "enable",
      args: ["username"],
      summary: "let a disabled user log in again (the tokens the disable killed stay dead)",
      options: {},
      async run({ client, output }, [username]) {
        const user = await client.request<UserView>(
          "POST",
          `/users/${encodeURIComponent(username!)}/enable`,
          {},
        );
        if (output.json) return printJson(output, user);
        output.out(
          block([
            ["username", user.username],
            ["status", user.status],
          ]),
        );
      },
    },
    {
      verb: "password",
      args: ["username"],
      summary: "set a new password; the user's tokens die on every data pod",
      options: { "password-stdin": passwordStdin },
      async run({ client, output, readSecret }, [username], values) {
        const password = await readSecret(`New password for ${username}: `, {
          fromStdin: values["password-stdin"] === true,
          confirm: true,
        });
        const res = await client.request<UserChanged>(
          "POST",
          `/users/${encodeURIComponent(username!)}/password`,
          { password },
        );
        if (output.json) return printJson(output, res);
        output.out(
          block([
            ["username", res.username],
            ["password", "changed"],
            ["tokens revoked", String(res.tokens_revoked)],
            ["confirmed pods", String(res.confirmed_pods)],
          ]),
        );
      },
    },
    {
      verb: "signout-everywhere",
      args: ["username"],
      summary: "sign a user out everywhere: every token of theirs dies on every data pod",
      details: "The user can log in again. Asks first (--yes skips).",
      options: { yes: yesOption },
      async run({ client, output }, [username], values) {
        await confirm(`End every session of ${username}`, values);
        const res = await client.request<{
          username: string;
          revoked_tokens: number;
          confirmed_pods: number;
        }>("POST", `/users/${encodeURIComponent(username!)}/tokens/revoke`, {});
        if (output.json) return printJson(output, res);
        output.out(
          block([
            ["username", res.username],
            ["tokens revoked", String(res.revoked_tokens)],
            confirmedLine(output, res.confirmed_pods, "refuse those tokens"),
          ]),
        );
      },
    },
  ],
};
