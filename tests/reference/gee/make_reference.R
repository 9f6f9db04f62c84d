# Reference values for lerendtransformeren.multilevel.gee (tests/multilevel/test_ml_gee.py).
#
# Fits population-averaged models with geepack::geeglm on families_gee.csv (written by
# make_input.py from data/synthetic/families.csv) and computes, by hand from the geeglm
# fit, three sandwich covariances of the regression coefficients:
#   LZ: Liang & Zeger (1986), no correction  (checked against geeglm's own vbeta)
#   MD: Mancl & DeRouen (2001):   r_i -> (I - H_ii)^{-1}   r_i
#   KC: Kauermann & Carroll (2001): r_i -> (I - H_ii)^{-1/2} r_i  (principal square root)
# with H_ii = D_i (sum_j D_j' V_j^-1 D_j)^-1 D_i' V_i^-1 and the sandwich
#   B^-1 [sum_i D_i' V_i^-1 A_i r_i r_i' A_i' V_i^-1 D_i] B^-1,  B = sum_i D_i' V_i^-1 D_i.
# The computation uses full n_i x n_i matrices and symmetric square roots of V_i, unlike
# the Python code, so the two are independent. For the independence working correlation
# clubSandwich::vcovCR on the equivalent glm (CR3 = MD, CR2 = KC) is stored as a second check.
# geeglm has no negative binomial family; that case uses the independence working
# correlation, whose GEE estimates are those of glm with MASS::negative.binomial(theta).
#
# Run from the repository root:  Rscript tests/reference/gee/make_reference.R
# R 4.x, geepack 1.3.9, clubSandwich 0.5.8, MASS, jsonlite.

suppressPackageStartupMessages({
  library(geepack)
  library(clubSandwich)
  library(MASS)
  library(jsonlite)
})

here <- "tests/reference/gee"
families <- read.csv(file.path(here, "families_gee.csv"), stringsAsFactors = FALSE)
families$ses <- factor(families$ses)  # levels sorted: hoog (reference), laag, midden

sym_power <- function(m, power) {
  e <- eigen((m + t(m)) / 2, symmetric = TRUE)
  e$vectors %*% (e$values^power * t(e$vectors))
}

sandwiches <- function(fit, data, cluster) {
  fam <- fit$family
  x <- model.matrix(fit)
  beta <- coef(fit)
  eta <- drop(x %*% beta)
  mu <- fam$linkinv(eta)
  r <- fit$y - mu
  d <- fam$mu.eta(eta) * x                    # D = dmu/dbeta', rows
  a <- sqrt(fam$variance(mu))
  alpha <- if (fit$corstr == "exchangeable") fit$geese$alpha[[1]] else 0
  phi <- fit$geese$gamma[[1]]
  ids <- split(seq_len(nrow(x)), data[[cluster]])
  vinv_half <- lapply(ids, function(i) {
    n <- length(i)
    rmat <- (1 - alpha) * diag(n) + alpha
    v <- phi * (a[i] %o% a[i]) * rmat
    sym_power(v, -1 / 2)
  })
  bread <- Reduce(`+`, Map(function(i, g) crossprod(g %*% d[i, , drop = FALSE]), ids, vinv_half))
  sigma <- solve(bread)
  meat <- function(power) {
    Reduce(`+`, Map(function(i, g) {
      gd <- g %*% d[i, , drop = FALSE]
      p <- gd %*% sigma %*% t(gd)
      adj <- sym_power(diag(nrow(p)) - p, power)
      u <- t(gd) %*% adj %*% (g %*% r[i])
      u %*% t(u)
    }, ids, vinv_half))
  }
  list(
    lz = sigma %*% meat(0) %*% sigma,
    md = sigma %*% meat(-1) %*% sigma,
    kc = sigma %*% meat(-1 / 2) %*% sigma,
    alpha = alpha, phi = phi
  )
}

tight <- geese.control(epsilon = 1e-12, maxit = 200)

glm_as_gee <- function(fit) {
  fit$corstr <- "independence"
  fit$geese <- list(alpha = 0, gamma = 1, vbeta = matrix(NA_real_, 0, 0))
  fit
}

reference_case <- function(name, formula, family, corstr, data, cluster, glm_check = FALSE,
                           engine = "geeglm") {
  data <- data[order(data[[cluster]]), ]      # stable: keeps the order within clusters
  data$cluster_id <- as.integer(factor(data[[cluster]]))
  fit <- if (engine == "geeglm") {
    geeglm(formula, family = family, data = data, id = cluster_id, corstr = corstr,
           control = tight)
  } else {
    glm_as_gee(glm(formula, family = family, data = data,
                   control = glm.control(epsilon = 1e-14, maxit = 100)))
  }
  s <- sandwiches(fit, data, cluster)
  out <- list(
    name = name,
    formula = deparse(formula),
    cluster = cluster,
    corstr = corstr,
    family = family$family,
    engine = engine,
    rows = nrow(data),
    clusters = length(unique(data[[cluster]])),
    terms = names(coef(fit)),
    estimate = unname(coef(fit)),
    alpha = s$alpha,
    phi = s$phi,
    cov_geeglm = unname(fit$geese$vbeta),
    cov_lz = unname(s$lz),
    cov_md = unname(s$md),
    cov_kc = unname(s$kc)
  )
  if (glm_check) {
    g <- glm(formula, family = family, data = data, control = glm.control(epsilon = 1e-14, maxit = 100))
    out$glm_estimate <- unname(coef(g))
    out$cov_cr3 <- unname(as.matrix(vcovCR(g, cluster = data[[cluster]], type = "CR3")))
    out$cov_cr2 <- unname(as.matrix(vcovCR(g, cluster = data[[cluster]], type = "CR2")))
  }
  out
}

goal3 <- families[families$goal == 3, ]
cases <- list(
  reference_case("binomial_exchangeable_organisation", referral ~ offer + wave + ses,
                 binomial(), "exchangeable", families, "organisation"),
  reference_case("poisson_independence_organisation", contacts ~ offer + wave + ses,
                 poisson(), "independence", families, "organisation", glm_check = TRUE),
  reference_case("negbin_independence_team_goal3", contacts ~ offer + wave,
                 negative.binomial(theta = 2), "independence", goal3, "team",
                 glm_check = TRUE, engine = "glm"),
  reference_case("poisson_exchangeable_team_goal3", contacts ~ offer + wave,
                 poisson(), "exchangeable", goal3, "team"),
  reference_case("gaussian_exchangeable_team_goal3", contacts ~ offer + wave,
                 gaussian(), "exchangeable", goal3, "team")
)
names(cases) <- vapply(cases, `[[`, "", "name")
cases$negbin_independence_team_goal3$nb_alpha <- 1 / 2   # variance mu + alpha mu^2, alpha = 1/theta
# method-of-moments alpha from a Poisson glm, sum((y - mu)^2 - mu) / sum(mu^2)
pois <- glm(contacts ~ offer + wave, family = poisson(), data = goal3,
            control = glm.control(epsilon = 1e-14, maxit = 100))
mu <- fitted(pois)
cases$negbin_independence_team_goal3$nb_alpha_moment <- sum((goal3$contacts - mu)^2 - mu) / sum(mu^2)

meta <- list(
  r_version = R.version.string,
  geepack = as.character(packageVersion("geepack")),
  clubSandwich = as.character(packageVersion("clubSandwich")),
  made_by = "tests/reference/gee/make_reference.R"
)
write_json(list(meta = meta, cases = cases), file.path(here, "gee_reference.json"),
           digits = NA, auto_unbox = TRUE, pretty = TRUE)
