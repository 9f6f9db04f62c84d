# Reference values for the nested multilevel engine (lerendtransformeren.multilevel).
#
# Fits every case with lme4::lmer (tight optimiser tolerances, so that the reference itself
# is converged) and lmerTest (Satterthwaite df, contest, Type III anova), and writes
# reference.json next to this script.
#
# It also writes effects_reference.json: for every case performance::icc (adjusted and
# unadjusted), performance::icc(by_group = TRUE) for random-intercept models,
# performance::r2_nakagawa (marginal, conditional), the variance components of
# insight::get_variance, and lme4's theta, sigma and beta (so that the formulas can be
# checked at lme4's own estimates). performance returns NA for a singular fit (a variance
# at 0) unless its singularity tolerance is lowered; those cases are stored twice: with the
# default tolerance (NA, written as null) and with tolerance = 0 (the values as defined).
# insight::get_variance sums the random-effect variances over the terms named after the
# grouping factors only, so a second term on the same factor (lme4's "resp.1" of
# (1 | resp) + (0 + wave | resp)) is left out; var_random_johnson is Johnson's (2014)
# mean z' Sigma z summed over every term of VarCorr, z from the model matrix as insight
# takes it, to compare where that happens. Input: the CSVs written by make_data.py.
#
#   .venv/bin/python tests/reference/multilevel/make_data.py
#   Rscript tests/reference/multilevel/make_reference.R
#
# Python formulas use patsy spelling (C(cond)); lme4 names the grouping of (1 | a/b)
# "b:a" where the Python side says "a:b".
#
# It also writes formula_reference.json (formula features on formula.csv, whose y, x, z and
# f are missing on different rows): scale(x) and scale(z, scale = FALSE) as model.frame
# computes them (over all rows where the variable is observed, before na.omit) and, for
# comparison, over the complete rows only; orthogonal polynomials poly(w, 2) (the basis
# and predictions for new data); and Type III anova(m, type = 3) of models with factors
# and a factor x covariate interaction under treatment and sum contrasts (lmerTest builds
# the Type III hypotheses from treatment coding, so the F tests do not depend on the
# coding).

suppressPackageStartupMessages({
  library(lme4)
  library(lmerTest)
  library(jsonlite)
  library(clubSandwich)
  library(performance)
  library(insight)
})

args <- commandArgs(trailingOnly = FALSE)
here <- dirname(normalizePath(sub("^--file=", "", args[grep("^--file=", args)])))
read <- function(name) {
  d <- read.csv(file.path(here, paste0(name, ".csv")), stringsAsFactors = TRUE)
  d
}
ctrl <- lmerControl(optimizer = "nloptwrap",
                    optCtrl = list(xtol_abs = 1e-10, ftol_abs = 1e-12, maxeval = 1e5),
                    check.conv.singular = "ignore")

cases <- list(
  list(name = "ri2_reml", data = "ri2", reml = TRUE,
       r = y ~ x + z + (1 | g), py = "y ~ x + z + (1 | g)", ranef = "g", ranef_py = "g"),
  list(name = "ri2_ml", data = "ri2", reml = FALSE,
       r = y ~ x + z + (1 | g), py = "y ~ x + z + (1 | g)"),
  list(name = "nest3_reml", data = "nest", reml = TRUE,
       r = y ~ wave * offer + ses + size + (1 | org/team/resp),
       py = "y ~ wave * offer + ses + size + (1 | org/team/resp)",
       ranef = "team:org", ranef_py = "org:team", anova = TRUE,
       contrast = rbind(c(0, 1, 0, 0, 0, 0), c(0, 0, 0, 0, 0, 1)),
       reduced = y ~ wave + offer + ses + size + (1 | org/team/resp)),
  list(name = "nest3_ml", data = "nest", reml = FALSE,
       r = y ~ wave * offer + ses + size + (1 | org/team/resp),
       py = "y ~ wave * offer + ses + size + (1 | org/team/resp)",
       ranef = "resp:(team:org)", ranef_py = "org:team:resp"),
  list(name = "nest4_reml", data = "nest", reml = TRUE,
       r = y ~ wave + offer + (1 | goal/org/team/resp),
       py = "y ~ wave + offer + (1 | goal/org/team/resp)"),
  list(name = "slope_resp", data = "slope", reml = TRUE,
       r = y ~ wave + x + (1 + wave | resp) + (1 | org),
       py = "y ~ wave + x + (1 + wave | resp) + (1 | org)", ranef = "resp", ranef_py = "resp"),
  list(name = "slope_org", data = "slope", reml = TRUE,
       r = y ~ wave + x + (1 + wave | org) + (1 | resp),
       py = "y ~ wave + x + (1 + wave | org) + (1 | resp)", ranef = "org", ranef_py = "org"),
  list(name = "uncorr", data = "slope", reml = TRUE,
       r = y ~ wave + (1 | resp) + (0 + wave | resp) + (1 | org),
       py = "y ~ wave + (1 | resp) + (0 + wave | resp) + (1 | org)"),
  list(name = "singular_reml", data = "singular", reml = TRUE,
       r = y ~ x + (1 | org/team), py = "y ~ x + (1 | org/team)", profile = TRUE),
  list(name = "singular_ml", data = "singular", reml = FALSE,
       r = y ~ x + (1 | org/team), py = "y ~ x + (1 | org/team)"),
  list(name = "factor_reml", data = "factor", reml = TRUE,
       r = y ~ cond * wave + (1 | g), py = "y ~ C(cond) * wave + (1 | g)", anova = TRUE),
  list(name = "balanced_reml", data = "balanced", reml = TRUE,
       r = y ~ x + z + (1 | g), py = "y ~ x + z + (1 | g)", wald_sd = TRUE, profile = TRUE,
       cr2 = "g"),
  list(name = "balanced_ml", data = "balanced", reml = FALSE,
       r = y ~ x + z + (1 | g), py = "y ~ x + z + (1 | g)", wald_sd = TRUE),
  list(name = "unbal3_reml", data = "unbal3", reml = TRUE,
       r = y ~ wave + orgx + (1 + wave | person) + (1 | org),
       py = "y ~ wave + orgx + (1 + wave | person) + (1 | org)", ranef = "org", ranef_py = "org",
       profile = TRUE, cr2 = "org"),
  list(name = "synthetic_reml", data = "synthetic", reml = TRUE,
       r = mastery ~ factor(wave) + offer + (1 | organisation/team/professional/family),
       py = "mastery ~ C(wave) + offer + (1 | organisation/team/professional/family)",
       wald_sd = TRUE, anova = TRUE, profile = TRUE)
)
# Wald standard errors of the random-effect SDs of a model with scalar random terms only:
# sd_k = sigma * theta_k, residual sd = sigma; delta method on lmerTest's vcov_varpar
# (= 2 H^-1 of the deviance in (theta, sigma)).
wald_sd <- function(m) {
  th <- getME(m, "theta"); s <- sigma(m); A <- m@vcov_varpar; k <- length(th)
  J <- rbind(cbind(diag(s, k), th), c(rep(0, k), 1))
  list(sd = c(s * th, s), se = sqrt(diag(J %*% A %*% t(J))), vcov_varpar = A)
}

get <- function(x, field) if (is.list(x)) x[[field]] else NULL
na_null <- function(x) if (is.null(x) || length(x) == 0 || all(is.na(x))) NULL else unname(x)
quiet <- function(expr) {
  msgs <- character()
  val <- withCallingHandlers(expr, warning = function(w) {
    msgs <<- c(msgs, conditionMessage(w)); invokeRestart("muffleWarning")
  }, message = function(m) invokeRestart("muffleMessage"))
  list(value = val, warnings = msgs)
}
effects <- function(m, tolerance) {
  ic <- quiet(performance::icc(m, tolerance = tolerance))
  slopes <- !is.null(insight::find_random_slopes(m))
  bg <- if (slopes) NULL else quiet(performance::icc(m, by_group = TRUE, tolerance = tolerance))
  r2 <- quiet(performance::r2_nakagawa(m, tolerance = tolerance))
  v <- quiet(insight::get_variance(m, tolerance = tolerance))
  list(
    icc_adjusted = na_null(get(ic$value, "ICC_adjusted")), icc_unadjusted = na_null(get(ic$value, "ICC_unadjusted")),
    icc_by_group = if (is.null(bg) || !is.data.frame(bg$value)) NULL else
      list(group = as.character(bg$value$Group), icc = bg$value$ICC),
    r2_marginal = na_null(get(r2$value, "R2_marginal")), r2_conditional = na_null(get(r2$value, "R2_conditional")),
    var_fixed = na_null(get(v$value, "var.fixed")), var_random = na_null(get(v$value, "var.random")),
    var_residual = na_null(get(v$value, "var.residual")),
    warnings = unique(c(ic$warnings, if (!is.null(bg)) bg$warnings, r2$warnings, v$warnings))
  )
}

johnson <- function(m) {
  X <- getME(m, "X")
  sum(sapply(VarCorr(m), function(S) {
    Z <- X[, rownames(S), drop = FALSE]
    sum((Z %*% S) * Z) / nrow(X)
  }))
}

out <- list()
eff <- list()
for (cs in cases) {
  d <- read(cs$data)
  m <- lmerTest::lmer(cs$r, data = d, REML = cs$reml, control = ctrl)
  co <- summary(m)$coefficients
  vc <- as.data.frame(VarCorr(m))
  res <- list(
    data = cs$data, formula_r = deparse(cs$r), formula = cs$py, reml = cs$reml,
    nobs = nobs(m), ngrps = as.list(ngrps(m)),
    fixed = list(term = rownames(co), estimate = unname(co[, 1]), se = unname(co[, 2]),
                 df = unname(co[, 3]), t = unname(co[, 4]), p = unname(co[, 5])),
    varcorr = list(grp = vc$grp, var1 = vc$var1, var2 = vc$var2, vcov = vc$vcov, sdcor = vc$sdcor),
    theta = unname(getME(m, "theta")), sigma = sigma(m),
    criterion = if (cs$reml) REMLcrit(m) else deviance(m),
    loglik = as.numeric(logLik(m)), aic = AIC(m), bic = BIC(m),
    singular = isSingular(m)
  )
  if (!is.null(cs$ranef)) {
    re <- ranef(m, condVar = TRUE)[[cs$ranef]]
    pv <- attr(re, "postVar")
    res$ranef <- list(level = cs$ranef_py, units = rownames(re), names = colnames(re),
                      values = unname(as.matrix(re)),
                      condsd = do.call(rbind, lapply(seq_len(nrow(re)), function(i) sqrt(diag(as.matrix(pv[, , i]))))))
  }
  if (isTRUE(cs$anova)) {
    a <- anova(m, type = 3)
    res$anova <- list(term = rownames(a), F = a[["F value"]], numdf = a$NumDF,
                      dendf = a$DenDF, p = a[["Pr(>F)"]])
  }
  if (!is.null(cs$contrast)) {
    ct <- contest(m, cs$contrast, joint = TRUE)
    c1 <- contest(m, cs$contrast[1, , drop = FALSE] - cs$contrast[2, , drop = FALSE], joint = FALSE)
    res$contrast <- list(L = cs$contrast, F = ct[["F value"]], numdf = ct$NumDF,
                         dendf = ct$DenDF, p = ct[["Pr(>F)"]],
                         L1 = drop(cs$contrast[1, ] - cs$contrast[2, ]), estimate1 = c1$Estimate,
                         se1 = c1[["Std. Error"]], df1 = c1$df, t1 = c1[["t value"]], p1 = c1[["Pr(>|t|)"]])
  }
  if (!is.null(cs$reduced)) {
    m0 <- lmerTest::lmer(cs$reduced, data = d, REML = cs$reml, control = ctrl)
    lr <- anova(m0, m, refit = TRUE)
    res$lrt <- list(reduced = sub("\\(1 \\| org/team/resp\\)", "(1 | org/team/resp)", deparse(cs$reduced)),
                    chisq = lr$Chisq[2], df = lr$Df[2], p = lr[["Pr(>Chisq)"]][2],
                    deviance = lr$deviance)
  }
  if (isTRUE(cs$wald_sd)) res$wald_sd <- wald_sd(m)
  if (isTRUE(cs$profile)) {
    ci <- confint(m, parm = "theta_", method = "profile", oldNames = FALSE)
    res$profile <- list(parm = rownames(ci), lower = unname(ci[, 1]), upper = unname(ci[, 2]))
  }
  if (!is.null(cs$cr2)) {
    m_lme4 <- lme4::lmer(cs$r, data = d, REML = cs$reml, control = ctrl)
    ct <- coef_test(m_lme4, vcov = "CR2", test = "Satterthwaite", cluster = d[[cs$cr2]][!is.na(d[[all.vars(cs$r)[1]]])])
    vc <- as.matrix(vcovCR(m_lme4, type = "CR2", cluster = d[[cs$cr2]][!is.na(d[[all.vars(cs$r)[1]]])]))
    res$cr2 <- list(cluster = cs$cr2, term = ct$Coef, estimate = ct$beta, se = ct$SE,
                    t = ct$tstat, df = ct$df_Satt, p = ct$p_Satt, vcov = unname(vc))
  }
  out[[cs$name]] <- res
  eff[[cs$name]] <- list(
    data = cs$data, formula_r = deparse(cs$r), formula = cs$py, reml = cs$reml,
    theta = unname(getME(m, "theta")), sigma = sigma(m), beta = unname(fixef(m)),
    term = names(fixef(m)), singular = isSingular(m), criterion = res$criterion,
    random_slopes = !is.null(insight::find_random_slopes(m)),
    var_random_johnson = johnson(m),
    default = effects(m, 1e-05),
    tolerance0 = if (isSingular(m)) effects(m, 0)
  )
}
out$`_meta` <- list(R = R.version.string, lme4 = as.character(packageVersion("lme4")),
                    lmerTest = as.character(packageVersion("lmerTest")),
                    clubSandwich = as.character(packageVersion("clubSandwich")))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = FALSE, matrix = "rowmajor"),
           file.path(here, "reference.json"))
eff$`_meta` <- list(R = R.version.string, lme4 = as.character(packageVersion("lme4")),
                    performance = as.character(packageVersion("performance")),
                    insight = as.character(packageVersion("insight")))
writeLines(toJSON(eff, digits = NA, auto_unbox = TRUE, pretty = TRUE, null = "null"),
           file.path(here, "effects_reference.json"))

# -- formula features (formula_reference.json) -----------------------------------------------
fd <- read.csv(file.path(here, "formula.csv"), stringsAsFactors = TRUE, na.strings = c("", "NA"))
fixed_of <- function(m) {
  co <- summary(m)$coefficients
  list(term = rownames(co), estimate = unname(co[, 1]), se = unname(co[, 2]), df = unname(co[, 3]),
       t = unname(co[, 4]), p = unname(co[, 5]))
}
anova_of <- function(m) {
  a <- anova(m, type = 3)
  list(term = rownames(a), F = a[["F value"]], numdf = a$NumDF, dendf = a$DenDF, p = a[["Pr(>F)"]])
}
fit_f <- function(formula, data) lmerTest::lmer(formula, data = data, REML = TRUE, control = ctrl)
scale_form <- y ~ scale(x) + scale(z, scale = FALSE) + f + (1 | g)
complete <- fd[complete.cases(fd[, c("y", "x", "z", "f", "g")]), ]
m_all <- fit_f(scale_form, fd)
m_used <- fit_f(scale_form, complete)
m_poly <- fit_f(y ~ poly(w, 2) + (1 | g), fd)
new_w <- data.frame(w = c(0.5, 5, 9.5))
basis <- poly(fd$w, 2)
anovas <- list()
for (form in c("y ~ f * h + x + (1 | g)", "y ~ f * x + h + (1 | g)")) {
  treatment <- anova_of(fit_f(as.formula(form), fd))
  op <- options(contrasts = c("contr.sum", "contr.poly"))
  sum_coded <- anova_of(fit_f(as.formula(form), fd))
  options(op)
  anovas[[form]] <- list(treatment = treatment, sum = sum_coded)
}
formula_out <- list(
  scale_all = list(formula_r = deparse(scale_form), nobs = nobs(m_all), fixed = fixed_of(m_all),
                   x_center = mean(fd$x, na.rm = TRUE), x_scale = sd(fd$x, na.rm = TRUE),
                   z_center = mean(fd$z, na.rm = TRUE)),
  scale_used = list(formula_r = deparse(scale_form), nobs = nobs(m_used), fixed = fixed_of(m_used),
                    x_center = mean(complete$x), x_scale = sd(complete$x), z_center = mean(complete$z)),
  poly = list(formula_r = "y ~ poly(w, 2) + (1 | g)", nobs = nobs(m_poly), fixed = fixed_of(m_poly),
              basis_rows = c(1L, 2L, 3L, nrow(fd)), basis = unname(basis[c(1, 2, 3, nrow(fd)), ]),
              alpha = attr(basis, "coefs")$alpha, norm2 = attr(basis, "coefs")$norm2,
              new_w = new_w$w, predict_new = unname(predict(m_poly, newdata = new_w, re.form = NA))),
  anova = anovas,
  `_meta` = list(R = R.version.string, lme4 = as.character(packageVersion("lme4")),
                 lmerTest = as.character(packageVersion("lmerTest")))
)
writeLines(toJSON(formula_out, digits = NA, auto_unbox = TRUE, pretty = TRUE, matrix = "rowmajor"),
           file.path(here, "formula_reference.json"))
