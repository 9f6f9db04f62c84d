# Reference values for lerendtransformeren.multilevel.bootstrap (parametric-bootstrap
# intervals of the ICC per level and of Nakagawa's R2).
#
# Fits y ~ wave + (1 | org/team) by REML with lme4 on nested.csv (written by make_data.py),
# then
#   1. the parametric bootstrap of lme4::bootMer(type = "parametric", use.u = FALSE), done
#      by hand: n_boot = 4000 responses from simulate(m, use.u = FALSE), each fitted afresh
#      by lmer (REML, tight optimiser tolerances), and a function returning the cumulative
#      ICC per level (org; org + team) and the marginal and conditional R2, as
#      MultilevelResult.icc["icc"] and .r2 define them. Stored: quantiles at several
#      probabilities, mean, SD, the share of samples with the organisation ICC below small
#      thresholds (singular fits: the variance at 0), the number of samples used.
#      Not bootMer itself: bootMer refits with lme4::refit(), and in lme4 1.1.31 refit()
#      of a REML fit with more than one fixed effect changes the REML criterion, even for
#      the same response (sleepstudy, Reaction ~ Days + (1 | Subject): REMLcrit 1786.465,
#      after refit(fm, sleepstudy$Reaction) 1795.167), which moves every refit a little
#      (here the team-level ICC by about +0.0015 in every sample);
#   2. performance::icc(m, ci = 0.95, iterations = 1000) (bootMer inside, bayestestR's
#      equal-tailed interval): the adjusted ICC with its interval, a check within its
#      (larger) Monte Carlo error.
# Writes reference.json next to this script. Takes several minutes.
#
#   .venv/bin/python tests/reference/bootstrap/make_data.py
#   Rscript tests/reference/bootstrap/make_reference.R

suppressPackageStartupMessages({
  library(lme4)
  library(performance)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = FALSE)
here <- dirname(normalizePath(sub("^--file=", "", args[grep("^--file=", args)])))
d <- read.csv(file.path(here, "nested.csv"))
d$org <- factor(d$org)
d$team <- factor(d$team)
form <- y ~ wave + (1 | org/team)
tight <- lmerControl(optimizer = "nloptwrap",
                     optCtrl = list(xtol_abs = 1e-10, ftol_abs = 1e-12, maxeval = 1e5),
                     check.conv.singular = "ignore", calc.derivs = FALSE)
m <- lmer(form, data = d, REML = TRUE, control = tight)

statistics <- function(fit) {
  vc <- as.data.frame(VarCorr(fit))
  v_org <- vc$vcov[vc$grp == "org"]
  v_team <- vc$vcov[vc$grp == "team:org"]
  s2 <- sigma(fit)^2
  v_fixed <- var(as.vector(model.matrix(fit) %*% fixef(fit)))
  total <- v_org + v_team + s2
  c(icc_org = v_org / total, icc_team = (v_org + v_team) / total,
    r2_marginal = v_fixed / (v_fixed + total),
    r2_conditional = (v_fixed + v_org + v_team) / (v_fixed + total))
}

n_boot <- 4000L
ys <- simulate(m, nsim = n_boot, seed = 20261204, use.u = FALSE)
one <- function(y) {
  dd <- d
  dd$y <- y
  fit <- tryCatch(suppressMessages(lmer(form, data = dd, REML = TRUE, control = tight)),
                  error = function(e) NULL)
  if (is.null(fit)) rep(NA_real_, 4) else statistics(fit)
}
t <- t(vapply(ys, one, numeric(4)))
colnames(t) <- names(statistics(m))
ok <- stats::complete.cases(t)
t <- t[ok, , drop = FALSE]
probs <- c(0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.975)
per_stat <- lapply(colnames(t), function(s) list(
  quantiles = unname(quantile(t[, s], probs, type = 7)),
  mean = mean(t[, s]), sd = sd(t[, s])
))
names(per_stat) <- colnames(t)
thresholds <- c(1e-8, 1e-4, 1e-3)

set.seed(20261205)
pic <- performance::icc(m, ci = 0.95, iterations = 1000)

out <- list(
  `_about` = paste("lme4", packageVersion("lme4"), "performance", packageVersion("performance"),
                   "bayestestR", packageVersion("bayestestR"), "- written by make_reference.R"),
  formula = "y ~ wave + (1 | org/team)",
  estimate = as.list(statistics(m)),
  theta = unname(getME(m, "theta")), sigma = sigma(m),
  bootstrap = list(n_boot = n_boot, n_used = sum(ok), probs = probs,
                   # samples with the organisation variance at (or next to) 0: a point mass
                   share_org_below = list(threshold = thresholds,
                                          share = sapply(thresholds, function(h) mean(t[, "icc_org"] < h))),
                   statistics = per_stat),
  performance_icc = list(iterations = 1000L,
                         icc_adjusted = pic$ICC_adjusted[1],
                         ci_low = pic$ICC_adjusted[2], ci_high = pic$ICC_adjusted[3])
)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), file.path(here, "reference.json"))
